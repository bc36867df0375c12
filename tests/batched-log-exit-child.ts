/**
 * Child process for batched-log-stream.test.ts: `node --import tsx batched-log-exit-child.ts <sonic|rotating|throwing> <file>`
 * logs 20 lines through a BatchedLogStream that would hold them for a minute, then exits with 3.
 */
import pino from 'pino';
import { BatchedLogStream } from '../src/batched-log-stream.js';
import { RotatingFileStream } from '../src/log-rotation.js';

const [kind, file] = process.argv.slice(2) as [string, string];
let sink: ConstructorParameters<typeof BatchedLogStream>[0];
if (kind === 'sonic') {
  const out = pino.destination({ dest: file, sync: false, minLength: 1 }); // as the daemon's stdout (src/cli/serve.ts)
  await new Promise((r) => out.once('ready', r));
  sink = out;
} else if (kind === 'rotating') {
  sink = new RotatingFileStream({ path: file, maxBytes: 1e6, maxFiles: 1 });
} else {
  // 'throwing': a sink that can no longer take anything (a destroyed stream, a closed IPC channel).
  sink = {
    write: () => {
      throw new Error('sink destroyed');
    },
    flush: (cb) => cb?.(),
  };
}
const log = pino({ base: null, timestamp: false }, new BatchedLogStream(sink, 1 << 20, 60_000));
for (let i = 0; i < 20; i++) log.info({ i }, 'before exit');
process.exit(3);
