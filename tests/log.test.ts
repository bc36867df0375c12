import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isoTime, isoTimeField, requestLineWriter, type RequestLineFields } from '../src/log.js';

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

  it('writes what toISOString writes, across milliseconds, seconds, days and years (the second is cached, the ms appended)', () => {
    const at = (ms: number) => JSON.parse(`{${isoTimeField(ms).slice(1)}}`).time as string;
    const starts = [Date.UTC(2026, 11, 4, 18, 5, 1), Date.UTC(2026, 11, 31, 23, 59, 59), Date.UTC(2028, 1, 28, 23, 59, 59), 0];
    for (const start of starts) {
      // Every millisecond of two seconds, forwards, then a few jumps back and across the boundary.
      for (let ms = start; ms < start + 2000; ms++) expect(at(ms)).toBe(new Date(ms).toISOString());
      for (const ms of [start + 999, start + 1000, start + 5, start + 1999, start + 10, start + 100, start]) expect(at(ms)).toBe(new Date(ms).toISOString());
    }
  });
});

describe('the request line', () => {
  const capture = () => {
    const lines: string[] = [];
    const dest = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) });
    return { lines, log: createLogger({ destination: dest as never }) };
  };
  const settle = () => new Promise((r) => setImmediate(r));

  it('is the line pino writes for the same fields: same keys in the same order, same values, fields left out when unset', async () => {
    const ours = capture();
    const theirs = capture();
    const cases: Array<['info' | 'warn', RequestLineFields]> = [
      ['info', { reqId: 'req-1', method: 'POST', route: '/api/oa/chat/completions', status: 200, ms: 12.34, provider: 'oa', model: 'gpt-4o-mini', attempts: 1, prompt_tokens: 12, completion_tokens: 9 }],
      ['info', { reqId: 'req-2', method: 'GET', route: '/health', status: 200, ms: 0.05 }],
      // Client-chosen text is escaped as pino escapes it: quotes, backslashes, newlines, control and non-ASCII characters.
      ['warn', { reqId: 'req-3', method: 'POST', route: '/api/x"y\\z\n\u0001é', status: 502, ms: 3, provider: 'an', model: 'm', attempts: 2, error: 'upstream said "no"\n\ttwice', aborted: true }],
      ['info', { reqId: 'req-4', method: 'POST', route: '/v1/messages', status: 499, ms: 1, aborted: false, error: undefined }],
    ];
    const write = requestLineWriter(ours.log);
    for (const [level, f] of cases) {
      write(level, f);
      theirs.log[level]({ ...f, aborted: f.aborted || undefined }, 'request');
    }
    await settle();
    expect(ours.lines).toHaveLength(cases.length);
    const strip = (l: string) => l.replace(/"time":"[^"]+"/, '"time":"T"');
    expect(ours.lines.map(strip)).toEqual(theirs.lines.map(strip));
    for (const l of ours.lines) expect(JSON.parse(l).msg).toBe('request');
  });

  it('writes nothing below the logger\'s level, and warn lines at warn', async () => {
    const { lines, log } = capture();
    log.level = 'warn';
    const write = requestLineWriter(log);
    write('info', { reqId: 'quiet', method: 'GET', route: '/health', status: 200, ms: 1 });
    write('warn', { reqId: 'loud', method: 'GET', route: '/x', status: 503, ms: 1 });
    await settle();
    expect(lines.map((l) => JSON.parse(l).reqId)).toEqual(['loud']);
    expect(JSON.parse(lines[0]!).level).toBe('warn');
  });
});
