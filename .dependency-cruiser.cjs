/**
 * The layer rule of aisbf (docs/architecture.md): imports only go down this list, and nothing imports
 * in a circle. tests/architecture/layers.test.ts runs it on every `npm test`.
 *
 *   cli → server / inbound / compat / jobs / glasses → pipeline →
 *   routing / context / identity / accounting / admission / cache / runtime (and the pipeline's
 *   contract: pipeline/stages.ts, pipeline/request-meta.ts) →
 *   providers → store / config / log / errors / tokens / media / documents
 *
 * Type-only imports count too, with one exception: the leaf helpers may name the OpenAI-shaped wire
 * types that live beside the provider contract (erased at build time, no runtime dependency).
 */
const LAYERS = [
  ['cli'],
  ['server', 'inbound', 'compat', 'jobs', 'glasses'],
  ['pipeline'],
  ['pipeline-contract', 'routing', 'context', 'identity', 'accounting', 'admission', 'cache', 'runtime\\.ts'],
  ['providers'],
  ['store', 'config', 'log\\.ts', 'log-rotation\\.ts', 'batched-log-stream\\.ts', 'errors', 'tokens', 'media', 'documents', 'package-info\\.ts', 'random-id\\.ts', 'after-response\\.ts', 'copy-with\\.ts'],
];

/**
 * The pipeline's contract (stage interfaces, RequestMeta) is what the stage implementations below
 * the pipeline implement: it sits with them, and imports only downward itself.
 */
const CONTRACT = 'pipeline/(stages|request-meta)\\.ts$';

const pathOf = (names) => `^src/(${names.map((n) => (n === 'pipeline-contract' ? CONTRACT : n === 'pipeline' ? 'pipeline(?!/(stages|request-meta)\\.ts$)' : n)).join('|')})($|/)`;

const upward = [];
for (let i = 1; i < LAYERS.length; i++) {
  const above = LAYERS.slice(0, i).flat();
  upward.push({
    name: `no-upward-from-${LAYERS[i].find((n) => n !== 'pipeline-contract').replace('\\.ts', '')}`,
    comment: `${LAYERS[i].join(', ')} must not import ${above.join(', ')} (a higher layer).`,
    severity: 'error',
    from: { path: pathOf(LAYERS[i]) },
    to: { path: pathOf(above) },
  });
}
// The leaves may name the wire types (type-only) of providers/openai-types.ts and provider-adapter.ts.
const leaf = upward[upward.length - 1];
leaf.to.pathNot = '^src/providers/(openai-types|provider-adapter)\\.ts$';
upward.push({
  name: 'no-upward-from-leaf-to-wire-types-at-runtime',
  comment: 'The leaves may import the provider wire types as types only.',
  severity: 'error',
  from: { path: pathOf(LAYERS[LAYERS.length - 1]) },
  to: { path: '^src/providers/(openai-types|provider-adapter)\\.ts$', dependencyTypesNot: ['type-only'] },
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'Modules must not depend on each other in a circle.',
      severity: 'error',
      from: { path: '^src/' },
      // A circle made only of type imports has no runtime effect; any value edge makes it real.
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    exclude: { path: '^(node_modules|dist|tests)/' },
  },
};
