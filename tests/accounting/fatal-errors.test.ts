/**
 * An error nothing caught ends the process with exit code 1, as node's default does, but its stack
 * goes to the crash log only: the log (which, for the daemon, is also where stderr goes) gets one
 * line without stack frames. A real process throws from a timer with the handler the server installs.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { CrashStore } from '../../src/store/crashes.js';

const SRC = resolve(import.meta.dirname, '..', '..', 'src');
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;
const dir = mkdtempSync(join(tmpdir(), 'aisbf-fatal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CHILD = `
import { createLogger } from ${JSON.stringify(join(SRC, 'log.ts'))};
import { openDatabase } from ${JSON.stringify(join(SRC, 'store', 'db.ts'))};
import { CrashStore } from ${JSON.stringify(join(SRC, 'store', 'crashes.ts'))};
import { CrashLog } from ${JSON.stringify(join(SRC, 'accounting', 'crashes.ts'))};
import { installFatalHandler } from ${JSON.stringify(join(SRC, 'accounting', 'fatal-errors.ts'))};
const [dbPath, logPath] = process.argv.slice(1);
const log = createLogger({ level: 'info', destination: logPath, sync: true });
installFatalHandler({ log, crashes: new CrashLog(new CrashStore(openDatabase(dbPath))) });
setTimeout(() => { throw new TypeError('boom in a timer with sk-abcdefghijklmnopqrstuvwxyz123456'); }, 10);
setInterval(() => {}, 1000); // something that would keep a process alive
`;

describe('an uncaught error in the server process', () => {
  it('exits 1, logs one line without a stack, and keeps the stack in the crash log', async () => {
    const dbPath = join(dir, 'aisbf.db');
    const logPath = join(dir, 'aisbf.log');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, dbPath, logPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(stderr).not.toMatch(STACK_FRAME);

    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/\bat .+:\d+:\d+/);
    const line = JSON.parse(lines[0]!);
    expect(line.msg).toBe('uncaught error; aisbf exits (its stack is in /admin/crashes)');
    expect(line.err.name).toBe('TypeError');
    expect(line.err.message).toContain('boom in a timer');
    expect(line.err.message).not.toContain('sk-abcdefghijklmnopqrstuvwxyz123456');

    const db = openDatabase(dbPath);
    try {
      const [crash] = new CrashStore(db).list(5);
      expect(crash).toMatchObject({ kind: 'unhandled', name: 'TypeError' });
      expect(crash!.stack).toMatch(STACK_FRAME);
      expect(crash!.stack).not.toContain('sk-abcdefghijklmnopqrstuvwxyz123456');
    } finally {
      db.close();
    }
  }, 30_000);
});
