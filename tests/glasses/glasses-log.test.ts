import { Writable } from 'node:stream';
import { rmSync } from 'node:fs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { makeConfigDir } from '../helpers/aisbf-server.js';
import { startServer } from '../../src/server/serve.js';
import { makeTestFrame, processForm } from '../helpers/glasses-frames.js';

describe('glasses request logs', () => {
  it('never contain the auth key, whether in the /auth path or the X-Auth-Key header', async () => {
    let logged = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logged += chunk.toString()), done()) });
    const dir = makeConfigDir({ aisbf: { logging: { level: 'info' } } });
    const server = await startServer({ configDir: dir, port: 0, host: '127.0.0.1', log: pino({ level: 'info' }, sink), env: {} });
    try {
      await fetch(`${server.url}/auth-my-very-secret-glasses-key`, { method: 'POST' });
      await fetch(`${server.url}/process`, {
        method: 'POST',
        headers: { 'x-auth-key': 'my-very-secret-glasses-key' },
        body: processForm({ image: makeTestFrame().bytes, username: 'ghost' }),
      });
      expect(logged).toContain('/auth-[redacted]');
      expect(logged).toContain('"route":"/process"');
      expect(logged).not.toContain('my-very-secret-glasses-key');
    } finally {
      await server.close(100);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
