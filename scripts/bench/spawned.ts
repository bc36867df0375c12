/**
 * @module What every bench script needs to run servers of its own: a free port, a config dir, the
 * mock upstream, and waiting until one answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../src/identity/api-keys.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { openDatabase } from '../../src/store/db.js';
import { UserStore } from '../../src/store/users.js';

const MOCK = fileURLToPath(new URL('./mock-upstream.ts', import.meta.url));

/**
 * aisbf.json's "everything on" part (issue 21): auth on, and the admission stage with a limit per
 * model above the load (nothing waits). With a key from createBenchKey, accounting and limits run too.
 */
export const EVERYTHING_ON = { auth: { enabled: true }, queue: { max_concurrent: 256, max_waiting: 256 } } as const;

/**
 * A numeric knob from the environment, `fallback` when unset; anything else that is not a finite
 * number ≥ 0 stops the script naming the variable (a mistyped RATE must not silently bench nothing).
 */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${JSON.stringify(raw)}: expected a number ≥ 0`);
  return n;
}

/** Scrapes `origin`/metrics once a second (the bench's "everything on" load); returns the stop function. */
export function scrapeMetricsEverySecond(origin: string, headers: Record<string, string> = {}): () => void {
  const timer = setInterval(() => void fetch(`${origin}/metrics`, { headers }).then((r) => r.arrayBuffer()).catch(() => undefined), 1000);
  return () => clearInterval(timer);
}

/** Stores the bench's key in `dir`'s database (rpm, tpm and a budget far above the load) and returns it. */
export function createBenchKey(dir: string): string {
  const db = openDatabase(join(dir, 'aisbf.db'));
  try {
    return createApiKey(new ApiKeyStore(db), new UserStore(db), { name: 'bench', rpm: 1e9, tpm: 1e12, budget_usd: 1e9, budget_period: 'month' }).key;
  } finally {
    db.close();
  }
}

/** An OpenAI-type provider on the mock (`endpoint` ends in /v1), with the bench's one model. */
export const benchProvider = (endpoint: string, models: unknown[] = [{ name: 'gpt-4o-mini', capabilities: ['chat'] }]) => ({ type: 'openai', endpoint, api_key: 'sk-bench', models });

/** The one prompt every bench request carries (the figures of different tools compare only with the same bytes). */
export const BENCH_MESSAGES = [{ role: 'user', content: 'Write one short sentence about the sea.' }];

/** A chat completion request with the bench's prompt: `{ model, messages, stream? }`, in that order. */
export const benchChatBody = (stream = false, model = 'gpt-4o-mini'): string => JSON.stringify({ model, messages: BENCH_MESSAGES, ...(stream ? { stream: true } : {}) });

/** The bench's prompt as a Responses request (`/v1/responses`) to the mock's chat upstream: the bench's and instructions.ts's Responses rows. */
export const benchResponsesBody = (stream: boolean): string => JSON.stringify({ model: 'mock/gpt-4o-mini', input: BENCH_MESSAGES.at(-1)!.content, store: false, stream });

/** The same as a Messages request (`/v1/messages`), translated onto the same upstream. */
export const benchMessagesBody = (stream: boolean): string => JSON.stringify({ model: 'mock/gpt-4o-mini', max_tokens: 256, messages: [{ role: 'user', content: BENCH_MESSAGES.at(-1)!.content }], stream });

/** The model of the bench's Anthropic-type provider (`benchAnthropicProvider`). */
export const RELAY_MODEL = 'claude-bench';

/** An Anthropic-type provider on the mock (`endpoint`: its origin, or `/slow` under it): the translated chat and the Messages pass-through. */
export const benchAnthropicProvider = (endpoint: string) => ({ type: 'anthropic', endpoint, api_key: 'sk-ant-bench', models: [{ name: RELAY_MODEL, capabilities: ['chat'] }] });

/** A streamed Messages request for the Anthropic-type provider, which aisbf passes through (`/api/<id>/messages`). */
export const relayBody = (messages: unknown[]): string => JSON.stringify({ model: RELAY_MODEL, max_tokens: 256, messages, stream: true });

/** A new temp config dir for one server: aisbf.json and providers.json as given, no rotations or autoselect. */
export function benchConfigDir(prefix: string, aisbf: Record<string, unknown>, providers: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'aisbf.json'), JSON.stringify(aisbf));
  writeFileSync(join(dir, 'providers.json'), JSON.stringify({ providers }));
  writeFileSync(join(dir, 'rotations.json'), '{}');
  writeFileSync(join(dir, 'autoselect.json'), '{}');
  return dir;
}

/** The mock's `/long/` streams carry this many times the content chunks of its ordinary ones. */
export const MOCK_LONG_FACTOR = 5;
/** Content chunks a `/long/` stream has beyond an ordinary one of `chunks` (2 of which carry no content). */
export const longExtraChunks = (chunks: number): number => (MOCK_LONG_FACTOR - 1) * (chunks - 2);

/** The mock upstream (scripts/bench/mock-upstream.ts) on `port`, streaming `chunks` (default 20) per answer. */
export const spawnMock = (port: number, chunks = 20): ChildProcess =>
  spawn(process.execPath, ['--import', 'tsx', MOCK, String(port), String(chunks), String(MOCK_LONG_FACTOR)], { stdio: 'ignore' });

/** A port free on 127.0.0.1 right now. */
export const freePort = (): Promise<number> =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

/**
 * Polls `url` every 100 ms until it answers 2xx (and `check` accepts its JSON body, when given);
 * fails at once when `child` exited, or after `timeoutMs`.
 */
export async function waitUp(url: string, child: ChildProcess, what = url, check?: (body: any) => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok && (!check || check(await r.json()))) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s`);
}
