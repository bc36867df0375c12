#!/usr/bin/env node
// Node ≥ 22.1 keeps V8's compiled code of the modules on disk (in the OS temp dir) and later starts
// skip most of the parsing and compiling: ~30% less CPU to load the server on Node 24. Node 20 has
// no such API and starts as before. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import { existsSync } from 'node:fs';
import module from 'node:module';

// The bundled build (scripts/build-bundle.ts): a few files instead of ~450 modules, so a start is
// ~1/3 faster and ~9 MB smaller. `npm run build` writes it after tsc's dist/.
const main = new URL('../dist/bundle/main.js', import.meta.url);
if (!existsSync(main)) {
  // A clone that was never built: say what to run, not node's module-resolution stack.
  process.stderr.write(`aisbf: not built (${decodeURIComponent(main.pathname)} is missing): run "npm run build" (or "npm start") in the aisbf folder\n`);
  process.exit(1);
}
module.enableCompileCache?.();
await import(main.href);
