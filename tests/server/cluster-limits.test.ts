/**
 * `server.workers: 2` without Redis: the real CLI as a cluster primary with two workers, in front of
 * a fake OpenAI upstream that counts what runs at once. Key limits and `max_concurrent` hold across
 * the workers (the primary holds them; workers ask over IPC), and one worker alone polls video jobs.
 */
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeServer, sendJson, sleep, type FakeServer } from '../fakes/fake-server.js';
import { assertBuilt, cleanup, freePort, makeCliConfigDir, readPid, spawnCli, waitFor } from '../cli/cli-harness.js';
import { openDatabase } from '../../src/store/db.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { UserStore } from '../../src/store/users.js';
import { createApiKey, type CreateKeyInput } from '../../src/identity/api-keys.js';

const ADMIN = 'static-admin-token-for-cluster-tests';

/** The upstream: every chat answer and every video poll takes a while; the most seen at once is kept. */
interface Upstream extends FakeServer {
  chats: string[];
  chatNow: number;
  chatMax: number;
  pollNow: number;
  pollMax: number;
  polls: number;
}

async function startUpstream(): Promise<Upstream> {
  let u!: Upstream;
  const answer = (res: ServerResponse, text: string) =>
    sendJson(res, 200, {
      id: 'chatcmpl-cluster', object: 'chat.completion', created: 1, model: 'gpt-4o',
      choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    });
  const server = await startFakeServer(async (req, res) => {
    if (req.method === 'POST' && req.path === '/v1/chat/completions') {
      u.chats.push(JSON.stringify(req.body?.messages));
      u.chatMax = Math.max(u.chatMax, ++u.chatNow);
      await sleep(req.body?.model === 'slow' ? 150 : 60);
      u.chatNow--;
      return answer(res, 'ok');
    }
    const video = { id: 'video_cluster', object: 'video', model: 'sora-2', status: 'in_progress', progress: 10, created_at: 1, completed_at: null, expires_at: null, error: null, prompt: 'p', remixed_from_video_id: null, seconds: '4', size: '720x1280' };
    if (req.method === 'POST' && req.path === '/v1/videos') return sendJson(res, 200, { ...video, status: 'queued', progress: 0 });
    if (req.method === 'GET' && req.path === '/v1/videos/video_cluster') {
      // Long polls: a second poller would be caught overlapping with the first. A poll ends when
      // it is answered or when its caller is gone (a killed worker's socket closes at once): a dead
      // worker's poll must not count as overlapping with its replacement's.
      u.polls++;
      u.pollMax = Math.max(u.pollMax, ++u.pollNow);
      let open = true;
      const over = () => {
        if (open) (open = false), u.pollNow--;
      };
      res.once('close', over);
      await sleep(400);
      over();
      if (res.destroyed) return;
      return sendJson(res, 200, video);
    }
    sendJson(res, 404, { error: { message: `no ${req.path}`, type: 'invalid_request_error', param: null, code: null } });
  });
  u = Object.assign(server, { chats: [] as string[], chatNow: 0, chatMax: 0, pollNow: 0, pollMax: 0, polls: 0 });
  return u;
}

let up: Upstream;
let dir: string;
let url: string;
let log = '';
const pids = new Set<number>();
const keys: Record<string, string> = {};

let asked = 0;
/**
 * A request on a fresh connection, so the cluster's round-robin spreads them over both workers.
 * Each asks something new (the cache is on) unless `content` is given.
 */
function chat(key: string, model = 'up/gpt-4o', content = `question ${++asked}`): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, connection: 'close' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
}

beforeAll(async () => {
  assertBuilt();
  up = await startUpstream();
  const port = await freePort();
  dir = makeCliConfigDir(
    {
      aisbf: { server: { workers: 2 }, auth: { enabled: true, tokens: [ADMIN] }, capabilities: { video_poll_seconds: 0.1 }, cache: { enabled: true } },
      providers: {
        up: {
          type: 'openai', endpoint: `${up.origin}/v1`, api_key: 'sk-upstream-000000',
          models: [{ name: 'gpt-4o' }, { name: 'slow', max_concurrent: 1 }, { name: 'sora-2', capabilities: ['video'] }],
        },
      },
    },
    port,
  );
  // As `aisbf key create` does, before the server starts: keys live in the instance's SQLite.
  const db = openDatabase(join(dir, 'aisbf.db'));
  const make = (input: CreateKeyInput) => createApiKey(new ApiKeyStore(db), new UserStore(db), input).key;
  keys.rpm = make({ name: 'rpm-five', rpm: 5 });
  keys.parallel = make({ name: 'one-at-a-time', max_parallel: 1 });
  keys.free = make({ name: 'unlimited' });
  db.close();
  const child = spawnCli(['--config', dir]);
  pids.add(child.pid!);
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  const rec = await waitFor('the cluster to write its URL', () => readPid(dir)?.url && readPid(dir), 20_000, child);
  url = rec.url!;
  // Both workers up and serving (round-robin over fresh connections reaches each).
  const seen = new Set<number>();
  await waitFor('both workers to answer', async () => {
    const h = (await (await fetch(`${url}/health`, { headers: { connection: 'close' } })).json()) as { pid: number };
    seen.add(h.pid);
    return seen.size >= 2;
  });
  for (const p of seen) pids.add(p);
}, 60_000);

afterAll(async () => {
  cleanup(pids, dir ? [dir] : []);
  await up?.close();
});

describe('server.workers = 2 without Redis', () => {
  it("holds a key's rpm across workers under 20 parallel requests", async () => {
    const res = await Promise.all(Array.from({ length: 20 }, () => chat(keys.rpm!)));
    const codes = res.map((r) => r.status);
    // Per-worker limits would let 5 through on each worker.
    expect(codes.filter((c) => c === 200)).toHaveLength(5);
    expect(codes.filter((c) => c === 429)).toHaveLength(15);
    const refused = res.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
  });

  it("holds a key's max_parallel across workers, and frees the slot when a request ends", async () => {
    const res = await Promise.all(Array.from({ length: 6 }, () => chat(keys.parallel!, 'up/slow')));
    expect(res.filter((r) => r.status === 200)).toHaveLength(1);
    expect(res.filter((r) => r.status === 429)).toHaveLength(5);
    // Released with the answer: the next one, sent the moment it arrives, on either worker, gets the slot.
    for (let i = 0; i < 10; i++) expect((await chat(keys.parallel!, 'up/slow')).status, `request ${i}`).toBe(200);
  });

  it('holds max_concurrent: 1 across workers: the upstream never sees two at once', async () => {
    up.chatMax = 0;
    const res = await Promise.all(Array.from({ length: 8 }, () => chat(keys.free!, 'up/slow')));
    expect(res.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(up.chatMax).toBe(1);
    // The unlimited model next to it does run in parallel: the queue only holds what is limited.
    up.chatMax = 0;
    const free = await Promise.all(Array.from({ length: 6 }, () => chat(keys.free!)));
    expect(free.every((r) => r.status === 200)).toBe(true);
    expect(up.chatMax).toBeGreaterThan(1);
  });

  it('answers a repeat from the one cache the workers share, on whichever worker it lands', async () => {
    const res: Response[] = [];
    for (let i = 0; i < 6; i++) res.push(await chat(keys.free!, 'up/gpt-4o', 'the same question'));
    expect(res.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(res.map((r) => r.headers.get('x-aisbf-cache'))).toEqual([null, 'hit', 'hit', 'hit', 'hit', 'hit']);
    expect(up.chats.filter((m) => m.includes('the same question'))).toHaveLength(1);
  });

  it('runs background jobs on one worker only: one video poller', async () => {
    const created = await fetch(`${url}/v1/videos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.free}` },
      body: JSON.stringify({ model: 'up/sora-2', prompt: 'a fox in the snow' }),
    });
    expect(created.status).toBe(200);
    // Each poll takes 400 ms and the interval is 100 ms: two pollers would overlap at once.
    await waitFor('several background polls', () => up.polls >= 5, 15_000);
    expect(up.pollMax).toBe(1);
    const announced = () => log.split('\n').filter((l) => l.includes('this worker runs the background jobs')).map((l) => (JSON.parse(l) as { pid: number }).pid);
    expect(announced()).toHaveLength(1);
  });

  it('hands the background jobs to the worker that replaces the one running them', async () => {
    const announced = () => log.split('\n').filter((l) => l.includes('this worker runs the background jobs')).map((l) => (JSON.parse(l) as { pid: number }).pid);
    const [runner] = announced();
    pids.add(runner!);
    process.kill(runner!, 'SIGKILL');
    const next = await waitFor('a new worker to take the background jobs', () => announced().find((p) => p !== runner), 20_000);
    pids.add(next);
    expect(announced()).toEqual([runner, next]);
    // Polling goes on, still one poller.
    const before = up.polls;
    await waitFor('polls from the new worker', () => up.polls >= before + 3, 15_000);
    expect(up.pollMax).toBe(1);
  });
});
