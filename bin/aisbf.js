#!/usr/bin/env node
// Node ≥ 22.1 keeps V8's compiled code of the modules on disk (in the OS temp dir) and later starts
// skip most of the parsing and compiling: ~30% less CPU to load the server on Node 24. Node 20 has
// no such API and starts as before. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import { existsSync } from 'node:fs';
import module from 'node:module';
import v8 from 'node:v8';

// The bundled build (scripts/build-bundle.ts): a few files instead of ~450 modules, so a start is
// ~1/3 faster and ~9 MB smaller. `npm run build` writes it after tsc's dist/.
const main = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  // A clone that was never built: say what to run, not node's module-resolution stack.
  process.stderr.write(`aisbf: not built (${decodeURIComponent(main.pathname)} is missing): run "npm run build" (or "npm start") in the aisbf folder\n`);
  process.exit(1);
}
// V8 pretenures an object-literal site (allocates its objects straight into the old space) once it
// sees nearly all of one batch of them survive a scavenge, and never takes that back. A gateway's
// per-request objects all die young, and a site pretenured by one unlucky moment keeps every request's
// young objects alive through the old-space garbage that points at them: the Messages pass-through
// stream promoted 6.9–8.8 KB a request that way (RSS after 6 s of load 160 against 124 MB, a fifth
// fewer requests served). Off, it promotes 6–52 B; the chat path measured the same either way
// (docs/performance.md, "Pretenuring").
v8.setFlagsFromString('--no-allocation-site-pretenuring');
module.enableCompileCache?.();
await import(main.href);
