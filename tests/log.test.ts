import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isoTime } from '../src/log.js';

describe('log timestamps', () => {
  it('stamps every line with the ISO time of its own millisecond', async () => {
    const lines: string[] = [];
    const dest = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
    const log = createLogger({ destination: dest as never });
    const before = Date.now();
    log.info({ n: 1 }, 'first');
    log.info({ n: 2 }, 'same millisecond or the next');
    // Past a millisecond boundary the field is formatted again, never reused.
    const t = Date.now();
    while (Date.now() === t) {
      /* spin to the next millisecond */
    }
    log.info({ n: 3 }, 'later');
    const after = Date.now();
    const times = lines.map((l) => JSON.parse(l).time as string);
    expect(times).toHaveLength(3);
    for (const time of times) {
      expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(Date.parse(time)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(time)).toBeLessThanOrEqual(after);
    }
    expect(Date.parse(times[2]!)).toBeGreaterThan(t);
  });

  it('returns the field pino splices into the line, the same string within one millisecond', () => {
    const field = isoTime();
    expect(field).toMatch(/^,"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
    const again = isoTime();
    if (Date.parse(JSON.parse(`{${field.slice(1)}}`).time) === Date.parse(JSON.parse(`{${again.slice(1)}}`).time)) expect(again).toBe(field);
    else expect(again > field).toBe(true);
  });
});
