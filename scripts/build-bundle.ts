/**
 * Bundles the daemon and CLI (tsc's dist/ → dist/bundle/) with esbuild: aisbf's own ~200 modules and
 * the pure-JS packages every start loads (zod, hono, @hono/node-server, pino) become a few files,
 * split at each dynamic import so what loads on first use still does. Measured on 2 cores, Node 20
 * (docs/performance.md "Start-up"): the foreground start to its first 200 goes ~360 → ~240 ms and RSS
 * after start ~84 → ~76 MB, because node's ESM loader pays per file (a module record, its source kept for lazy
 * compilation, a resolve) and zod alone is ~240 files. The provider SDKs are bundled too, into the
 * lazy chunk of the adapter that uses them: they still load on a provider type's first request, but
 * as one file instead of hundreds (import, Node 20: openai 98 → 23 ms, @anthropic-ai/sdk 270 → 69,
 * @google/genai 189 → 93; a daemon's first chat to an OpenAI-type provider 70–80 → 21–25 ms, RSS after
 * it −6 to −9 MB). tests/cli/bundle-providers.test.ts runs the built daemon against every provider type.
 * Everything else stays a plain package import: native addons and the rest load from node_modules on
 * first use, as with tsc's output. bin/aisbf.js runs dist/bundle/main.js. Run by `npm run build` after tsc.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const OUT = join(DIST, 'bundle');

/**
 * Packages bundled in: pure JS, loaded by every start (zod, hono, node-server, pino, busboy) or by a
 * provider type's first request (the SDKs). Not ioredis: bundled, its CommonJS exports lose the named
 * `Redis` an ESM import expects ("Redis is not a constructor"), for ~27 ms once at a Redis start.
 */
const BUNDLED = new Set(['zod', 'hono', '@hono/node-server', 'pino', 'openai', '@anthropic-ai/sdk', '@google/genai', 'ollama', 'busboy']);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
// A package and its subpaths (`hono/cors`) stay external unless bundled; their own dependencies
// follow them (bundled packages pull theirs in, external ones resolve theirs from node_modules).
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name)).flatMap((name) => [name, `${name}/*`]);

rmSync(OUT, { recursive: true, force: true });
await build({
  // The PDF worker is its own entry: render-pdf-pages starts it by a URL next to the calling file.
  entryPoints: { main: join(DIST, 'cli', 'main.js'), 'pdf-render-worker': join(DIST, 'documents', 'pdf-render-worker.js') },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external,
  // pino is CommonJS: its require() of node built-ins needs a real require inside an ES module.
  banner: { js: "import { createRequire as __aisbfRequire } from 'node:module'; const require = __aisbfRequire(import.meta.url);" },
  // Without comments the output is ASCII, so V8 keeps each file's source (held for lazy compilation)
  // as a one-byte string: a comment's "—" made the two largest files two-byte, 2.7 MB of heap.
  // Identifiers keep their names, so a stack read with AISBF_DEBUG=1 stays readable.
  // PROFILE_READABLE=1 keeps line breaks, so a CPU profile's line numbers point somewhere (profiling only).
  minifyWhitespace: process.env.PROFILE_READABLE !== '1',
  minifySyntax: true,
  charset: 'ascii',
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
});
