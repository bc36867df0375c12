/**
 * @module Recorded upstream fixtures (tests/providers/fixtures/<provider>/<scenario>.*) and what the
 * unit tests replaying them need: the fixture text, its SSE events or NDJSON lines as parsed JSON, a
 * CallContext for an adapter call, and collecting an async iterable.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/log.js';
import type { CallContext } from '../../src/providers/provider-adapter.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'providers', 'fixtures');

/** The text of one recorded fixture, e.g. `recorded('anthropic', 'error-event.sse')`. */
export function recorded(provider: string, file: string): string {
  return readFileSync(join(FIXTURES, provider, file), 'utf8');
}

export interface SseEvent {
  event?: string;
  data: string;
}

/** The events of an SSE text (`event:` and joined `data:` lines; `[DONE]` kept as data). */
export function sseEvents(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
    }
    if (data.length) out.push({ ...(event ? { event } : {}), data: data.join('\n') });
  }
  return out;
}

/** The JSON payloads of an SSE fixture (without `[DONE]`). */
export function sseJson<T = any>(text: string): T[] {
  return sseEvents(text)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data) as T);
}

/** The lines of an NDJSON fixture, parsed. */
export function ndjson<T = any>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

export async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const i of items) yield i;
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** What an adapter call gets from the attempt loop, for direct adapter tests. */
export function callContext(overrides: Partial<CallContext> = {}): CallContext {
  return { model: 'test-model', apiKey: 'sk-test', signal: new AbortController().signal, timeoutMs: 5_000, log: silentLogger, ...overrides };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
