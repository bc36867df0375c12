#!/usr/bin/env node
// Node ≥ 22.1 keeps V8's compiled code of the modules on disk (in the OS temp dir) and later starts
// skip most of the parsing and compiling: ~30% less CPU to load the server on Node 24. Node 20 has
// no such API and starts as before. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
import module from 'node:module';

module.enableCompileCache?.();
// The bundled build (scripts/build-bundle.ts): a few files instead of ~450 modules, so a start is
// ~1/3 faster and ~9 MB smaller. `npm run build` writes it after tsc's dist/.
await import('../dist/bundle/main.js');
