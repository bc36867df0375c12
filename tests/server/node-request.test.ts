import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { describe, expect, it } from 'vitest';
import { sentOnSocket } from '../../src/server/node-request.js';

type WarnLog = Parameters<typeof sentOnSocket>[1];

/** A logger that keeps what it was told (pino's `warn` has overloads a plain function does not spell). */
function keptLog(): WarnLog & { lines: Array<{ obj: unknown; msg: string }> } {
  const lines: Array<{ obj: unknown; msg: string }> = [];
  return Object.assign({ warn: (obj: unknown, msg: string) => void lines.push({ obj, msg }) } as unknown as WarnLog, { lines });
}

describe('a stream written to node\'s socket by its handler (sentOnSocket)', () => {
  it('answers so that the adapter sends nothing more, and logs nothing when the writer finishes', async () => {
    const log = keptLog();
    expect(sentOnSocket(Promise.resolve(), log, 'req-ok')).toBe(RESPONSE_ALREADY_SENT);
    await new Promise((r) => setImmediate(r));
    expect(log.lines).toEqual([]);
  });

  it('logs a failure of the writer once, with the request id and the message only (no stack), and never rejects unhandled', async () => {
    const log = keptLog();
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const err = new Error('socket write after end');
      expect(sentOnSocket(Promise.reject(err), log, 'req-bad')).toBe(RESPONSE_ALREADY_SENT);
      await new Promise((r) => setImmediate(r));
      expect(log.lines).toEqual([{ obj: { reqId: 'req-bad', err: { message: 'socket write after end' } }, msg: 'writing a stream failed' }]);
      expect(JSON.stringify(log.lines)).not.toContain('at ');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
