import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readLines, readRange } from '../../src/jobs/read-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'aisbf-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading a batch file line by line', () => {
  it('gives each line its number and byte range, across chunk boundaries and multi-byte characters, and reads it back alone', async () => {
    const long = 'é'.repeat(300_000); // 600 kB: spans several 256 kB chunks
    const lines = ['{"a":1}', long, '', 'last line, no newline: ✓'];
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, lines.join('\n'));
    const got = [];
    for await (const l of readLines(path)) got.push(l);
    expect(got.map((l) => [l.lineNo, l.text])).toEqual(lines.map((t, i) => [i + 1, t]));
    const fh = await open(path, 'r');
    try {
      for (const l of got) expect((await readRange(fh, l.offset, l.length)).toString('utf8')).toBe(l.text);
    } finally {
      await fh.close();
    }
  });

  it('skips the bytes of a line over the limit instead of holding them', async () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, `short\n${'x'.repeat(700_000)}\nafter`);
    const got = [];
    for await (const l of readLines(path, 1000)) got.push(l);
    expect(got.map((l) => [l.lineNo, l.tooLong ?? false, l.text.length, l.length])).toEqual([
      [1, false, 5, 5],
      [2, true, 0, 700_000],
      [3, false, 5, 5],
    ]);
  });
});
