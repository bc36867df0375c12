import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILES } from '../../src/config/schema.js';

const DOC = readFileSync(resolve(import.meta.dirname, '..', '..', 'docs', 'config.md'), 'utf8');

type Def = { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; valueType?: unknown; element?: unknown; options?: unknown[]; catchall?: unknown };
const defOf = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def;

/** Every field path of a schema, as docs/config.md writes it (`providers.<id>.models[].name`). */
function fieldPaths(schema: unknown, path: string, out: Set<string>): Set<string> {
  let d = defOf(schema);
  while (d.innerType || d.type === 'pipe') d = defOf(d.type === 'pipe' ? d.in : d.innerType);
  if (d.type === 'object') {
    for (const [k, v] of Object.entries(d.shape ?? {})) {
      const p = path ? `${path}.${k}` : k;
      out.add(p);
      fieldPaths(v, p, out);
    }
    if (d.catchall && defOf(d.catchall).type !== 'never') fieldPaths(d.catchall, path ? `${path}.<id>` : '<id>', out);
  } else if (d.type === 'record') fieldPaths(d.valueType, path ? `${path}.<id>` : '<id>', out);
  else if (d.type === 'array') fieldPaths(d.element, `${path}[]`, out);
  else if (d.type === 'union') for (const o of d.options ?? []) fieldPaths(o, path, out);
  return out;
}

describe('docs/config.md', () => {
  it('documents every field of the four config files', () => {
    const missing: string[] = [];
    for (const [file, schema] of Object.entries(CONFIG_FILES)) {
      const section = DOC.slice(DOC.indexOf(`## ${file}`));
      for (const p of fieldPaths(schema, '', new Set())) if (!section.includes(`\`${p}\``)) missing.push(`${file}: ${p}`);
    }
    expect(missing).toEqual([]);
  });

  it('is self-contained', () => {
    expect(DOC).not.toMatch(/\.\.\/shared|DESIGN\.md|CONTRACTS\.md/);
  });
});
