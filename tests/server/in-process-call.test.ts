/**
 * An in-process call (how batch lines run) takes the route's real path: the body it carries is the
 * route's body, under the route's size limit; its identity is the caller's; its signal aborts the
 * upstream request; the answer's status and body are the route's. Against a real server's app and a
 * gated fake upstream (so the abort is seen while the upstream holds the request).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import { callInProcess } from '../../src/server/in-process-call.js';
import { createApp } from '../../src/server/app.js';
import type { AppEnv } from '../../src/server/app-env.js';
import { startGatedOpenAI, type GatedOpenAI } from '../fakes/gated-openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let up: GatedOpenAI;
let aisbf: TestServer;
let app: Hono<AppEnv>;

beforeAll(async () => {
  up = await startGatedOpenAI();
  aisbf = await startAisbf({
    providers: { local: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm' }] } },
    aisbf: { server: { body_limit_mb: 0.01 } },
  });
  // The running server's deps behind a fresh app: the routes batch lines are called through.
  app = createApp(aisbf.running.deps);
});
afterAll(async () => {
  up.passThrough = true;
  for (const h of [...up.held]) h.release();
  await aisbf.close();
  await up.close();
});

const chat = (marker: string) => JSON.stringify({ model: 'local/m', messages: [{ role: 'user', content: marker }] });
const call = (bodyText: string, signal = new AbortController().signal) =>
  callInProcess(app, { path: '/v1/chat/completions', headers: { 'content-type': 'application/json', 'x-request-id': 'inproc-1' }, bodyText, signal });

describe('an in-process call of a route', () => {
  it("answers the route's JSON with its status and served headers", async () => {
    up.passThrough = true;
    const r = await call(chat('hello in process'));
    up.passThrough = false;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] });
    expect(r.header('x-aisbf-provider')).toBe('local');
    expect(up.arrivals).toContain('hello in process');
  });

  it("refuses a body over server.body_limit_mb with the route's 413 envelope, and a bad body with its 400", async () => {
    const big = await call(chat('x'.repeat(20_000)));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text).error).toMatchObject({ code: 'request_too_large' });
    const bad = await call('{"model": "local/m", "messages": ');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.message).toMatch(/JSON/i);
  });

  it('aborts the upstream request when its signal fires', async () => {
    const ctl = new AbortController();
    const pending = call(chat('to be aborted'), ctl.signal);
    await up.arrived(up.arrivals.length + 1);
    expect(up.held.map((h) => h.marker)).toContain('to be aborted');
    ctl.abort();
    await pending.catch(() => undefined);
    // The upstream socket closes: the held request goes away without being released.
    for (let i = 0; i < 200 && up.held.some((h) => h.marker === 'to be aborted'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(up.held.map((h) => h.marker)).not.toContain('to be aborted');
  });
});
