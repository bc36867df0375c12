import { Hono } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';
import { describe, expect, it } from 'vitest';
import { MEMO_MAX, MemoRouter } from '../../src/server/memo-router.js';

/** Routes shaped like ours: a param beside static segments at the same place, and a regex param. */
type Entry = NonNullable<ConstructorParameters<typeof Hono>[0]>['router'] extends infer R ? (R extends { add(m: string, p: string, h: infer H): void } ? H : never) : never;

function app(router?: MemoRouter<Entry>) {
  const a = new Hono({ router: router ?? new TrieRouter<Entry>() });
  a.use('*', async (c, next) => {
    await next();
    c.res.headers.set('x-mw', 'yes');
  });
  a.get('/api/requests/:id', (c) => c.json({ route: 'request', id: c.req.param('id') }));
  a.get('/api/:id/models', (c) => c.json({ route: 'models', id: c.req.param('id') }));
  a.post('/api/:id/chat/completions', (c) => c.json({ route: 'chat', id: c.req.param('id') }));
  a.get('/:slug{auth-.+}', (c) => c.json({ route: 'slug', slug: c.req.param('slug') }));
  return a;
}

const CASES: Array<[string, string]> = [
  ['GET', '/api/requests/r1'],
  ['GET', '/api/requests/r2'],
  ['GET', '/api/openai/models'],
  ['POST', '/api/openai/chat/completions'],
  ['POST', '/api/mock/chat/completions'],
  ['GET', '/auth-abc'],
  ['GET', '/nothing-here'],
  ['POST', '/api/requests/r1'],
];

async function answers(a: Hono, n = 2): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    for (const [method, path] of CASES) {
      const r = await a.request(path, { method });
      out.push(`${method} ${path} → ${r.status} ${r.headers.get('x-mw')} ${await r.text()}`);
    }
  }
  return out;
}

describe('MemoRouter', () => {
  it('answers every request as the TrieRouter does, the first time and from the memo', async () => {
    const router = new MemoRouter<Entry>();
    const memo = await answers(app(router));
    expect(memo).toEqual(await answers(app()));
    expect(memo.join('\n')).toContain('"id":"r2"');
    expect(router.size).toBe(CASES.length);
  });

  it('stays bounded whatever paths clients send', async () => {
    const router = new MemoRouter<Entry>();
    const a = app(router);
    for (let i = 0; i < MEMO_MAX * 2 + 10; i++) {
      const r = await a.request(`/api/requests/id-${i}`);
      expect(await r.json()).toEqual({ route: 'request', id: `id-${i}` });
    }
    expect(router.size).toBeLessThanOrEqual(MEMO_MAX);
  });
});
