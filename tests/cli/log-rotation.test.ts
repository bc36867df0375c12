import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RotatingFileStream } from '../../src/log-rotation.js';
import { createLogger } from '../../src/log.js';

const dir = mkdtempSync(join(tmpdir(), 'aisbf-rotate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RotatingFileStream', () => {
  it('rotates before a write would pass max size, keeps max_files old files, drops the oldest; lines stay whole', async () => {
    const path = join(dir, 'logs', 'aisbf.log');
    const log = new RotatingFileStream({ path, maxBytes: 100, maxFiles: 2 });
    const line = (i: number) => `line ${String(i).padStart(2, '0')} xxxxxxxxxxxxxxx\n`; // 25 bytes
    for (let i = 0; i < 16; i++) log.write(line(i));
    await log.end();
    const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => line(from + k)).join('');
    expect(readFileSync(path, 'utf8')).toBe(lines(12, 15));
    expect(readFileSync(`${path}.1`, 'utf8')).toBe(lines(8, 11));
    expect(readFileSync(`${path}.2`, 'utf8')).toBe(lines(4, 7));
    expect(existsSync(`${path}.3`)).toBe(false); // lines 0-3 were the oldest: dropped
  });

  it('continues an existing file, counting its size toward the limit', async () => {
    const path = join(dir, 'existing.log');
    const first = new RotatingFileStream({ path, maxBytes: 1000, maxFiles: 1 });
    first.write(`${'a'.repeat(899)}\n`);
    await first.end();
    const second = new RotatingFileStream({ path, maxBytes: 1000, maxFiles: 1 });
    second.write(`${'b'.repeat(49)}\n`);
    second.write(`${'c'.repeat(199)}\n`);
    await second.end();
    expect(readFileSync(`${path}.1`, 'utf8')).toBe(`${'a'.repeat(899)}\n${'b'.repeat(49)}\n`);
    expect(readFileSync(path, 'utf8')).toBe(`${'c'.repeat(199)}\n`);
  });

  it('is a pino destination: JSON lines, flushed on end', async () => {
    const path = join(dir, 'pino.log');
    const stream = new RotatingFileStream({ path, maxBytes: 1024 * 1024, maxFiles: 1 });
    const log = createLogger({ level: 'info', destination: stream });
    log.info({ apiKey: 'sk-secret-123456' }, 'hello file');
    await stream.end();
    const rec = JSON.parse(readFileSync(path, 'utf8').trim());
    expect(rec).toMatchObject({ level: 'info', msg: 'hello file', apiKey: '[redacted]' });
  });
});
