import { request } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { createApp } from '../../../src/server/app.js';
import { UI_DIR } from '../../../src/server/routes/ui.js';

let aisbf: TestServer;

beforeAll(async () => {
  // `npm test` builds first; run alone, the page must have been built by `npm run build`.
  expect(existsSync(join(UI_DIR, 'index.html')), 'dist/ui is missing: run npm run build').toBe(true);
  aisbf = await startAisbf({});
});
afterAll(async () => {
  await aisbf?.close();
});

/** A raw GET, so the path reaches the server exactly as written (fetch would normalise it). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const u = new URL(aisbf.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /ui', () => {
  it('serves the page with a strict CSP, no inline script, and revalidation caching', async () => {
    const r = await fetch(`${aisbf.url}/ui`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    const html = await r.text();
    // Every script has a same-origin src; nothing is loaded from elsewhere (no CDN, no web font).
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const s of scripts) expect(s).toMatch(/src="\/ui\/assets\/app-[A-Z0-9]{8}\.js"/);
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);

    const again = await fetch(`${aisbf.url}/ui/`, { headers: { 'if-none-match': r.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('serves the hashed assets gzipped and cached for a year, and their bundle loads nothing from outside', async () => {
    const html = await (await fetch(`${aisbf.url}/ui`)).text();
    const js = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const css = /href="(\/ui\/assets\/[^"]+\.css)"/.exec(html)![1]!;
    for (const path of [js, css]) {
      const r = await fetch(`${aisbf.url}${path}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(r.headers.get('content-encoding')).toBe('gzip');
      const text = await r.text();
      expect(text.length).toBeGreaterThan(1000);
      expect(text).not.toMatch(/fonts\.googleapis|cdn\.jsdelivr|unpkg\.com/);
    }
    expect((await fetch(`${aisbf.url}${js}`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Built within budget: everything under dist/ui, gzipped, is checked by the build itself; the
    // bundle on disk is what is served.
    expect(readFileSync(join(UI_DIR, 'assets', js.split('/').pop()!)).length).toBeGreaterThan(1000);
  });

  it('serves only the built files: traversal and unknown names are 404 in the JSON error envelope', async () => {
    for (const path of ['/ui/..%2fpackage.json', '/ui/assets/..%2f..%2f..%2fpackage.json', '/ui/%2e%2e/package.json', '/ui/.%2e/.%2e/package.json', '/ui/assets/../../package.json', '/ui/nope.js', '/ui/assets/app.js.map', '/ui//etc/passwd']) {
      const r = await rawGet(path);
      expect(r.status, path).toBe(404);
      expect(r.body, path).not.toContain('"name": "aisbf"');
      expect(JSON.parse(r.body).error.code, path).toBe('unknown_url');
    }
  });

  it('answers only loopback clients while auth is off', async () => {
    // app.request has no socket: like a remote client, it is refused.
    const app = createApp(aisbf.running.deps);
    const r = await app.request('/ui');
    expect(r.status).toBe(403);
    expect(((await r.json()) as any).error.code).toBe('admin_loopback_only');
  });
});

describe('GET /ui with auth on', () => {
  it('serves the page to anyone (it asks for a login) while /admin stays closed without a token', async () => {
    const locked = await startAisbf({ aisbf: { auth: { enabled: true, tokens: ['static-admin-token-0123456789'] } } });
    try {
      const app = createApp(locked.running.deps);
      expect((await app.request('/ui')).status).toBe(200);
      const state = await fetch(`${locked.url}/admin/state`);
      expect(state.status).toBe(401);
      const ok = await fetch(`${locked.url}/admin/state`, { headers: { authorization: 'Bearer static-admin-token-0123456789' } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as any).auth_enabled).toBe(true);
    } finally {
      await locked.close();
    }
  });
});
