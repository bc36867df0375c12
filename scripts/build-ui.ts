/**
 * Builds the dashboard (ui/ → dist/ui): esbuild bundles ui/src/main.js with Preact, htm and uPlot
 * into content-hashed files, then index.html is written naming them. Fails when the page would be
 * over its size budget (150 KB gzipped in all) — it must stay small enough to load instantly.
 * Run by `npm run build` after tsc.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'ui');
const OUT = join(ROOT, 'dist', 'ui');
const BUDGET_GZIP_BYTES = 150 * 1024;

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(SRC, 'src', 'main.js') },
  outdir: join(OUT, 'assets'),
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  metafile: true,
  legalComments: 'eof',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((n) => n.endsWith('.js'));
const css = outputs.find((n) => n.endsWith('.css'));
if (!js || !css) throw new Error(`esbuild wrote no app js/css: ${outputs.join(', ')}`);

const html = readFileSync(join(SRC, 'index.html'), 'utf8').replace('%APP_JS%', `/ui/assets/${js}`).replace('%APP_CSS%', `/ui/assets/${css}`);
writeFileSync(join(OUT, 'index.html'), html);
copyFileSync(join(SRC, 'favicon.svg'), join(OUT, 'favicon.svg'));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}
let total = 0;
for (const f of files(OUT)) total += gzipSync(readFileSync(f), { level: 9 }).length;
const line = `dashboard: ${files(OUT).map((f) => relative(OUT, f)).join(', ')} — ${(total / 1024).toFixed(1)} KB gzipped`;
if (total > BUDGET_GZIP_BYTES) {
  console.error(`${line}: over the ${BUDGET_GZIP_BYTES / 1024} KB budget`);
  process.exit(1);
}
if (process.env.AISBF_UI_QUIET !== '1') console.log(line);
