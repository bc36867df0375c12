import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claimPidFile, readPidFile, type PidRecord } from '../../src/cli/pid-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const record = (pid: number): PidRecord => ({ pid, url: 'http://127.0.0.1:1', started_at: '', version: '0', config_dir: '', log_file: null, shutdown_grace_seconds: 10, proc_start: null, args: {}, reloads: 0, last_reload: null });

describe('claiming the PID file', () => {
  it('puts the PID in place whole, leaves no temp file, and refuses a second claim without touching the first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-pid-'));
    dirs.push(dir);
    const path = join(dir, 'aisbf.pid');
    claimPidFile(path, record(4242));
    expect(readFileSync(path, 'utf8')).toBe('4242\n');
    expect(readPidFile(path)).toMatchObject({ pid: 4242, url: 'http://127.0.0.1:1' });
    expect(() => claimPidFile(path, record(777))).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(readFileSync(path, 'utf8')).toBe('4242\n');
    expect(readdirSync(dir).sort()).toEqual(['aisbf.pid', 'aisbf.state.json']);
  });
});
