/**
 * Steady-state requests build no new hidden classes. V8 gives objects of one shape one map (hidden
 * class); code that makes a new map per request (on Node 20: an object spread followed by a property
 * the source lacks, or an async generator function created per call) allocates maps in old space and
 * turns every property read of those objects megamorphic. A chat request did three such things, a
 * stream four (docs/performance.md, "Hidden classes made per request").
 *
 * The built daemon runs with V8's `--log-maps`; after a warm-up on each path, more requests on the
 * same paths must log (almost) no map creations or transitions. Real clients on both sides: the
 * OpenAI and Anthropic SDKs in, fakes of OpenAI's, Anthropic's and Hugging Face's wire formats out.
 *
 * The Ollama and Gemini SDKs are given our node:http transport (the global fetch, undici, makes two
 * async generator functions per request on Node 20: 8 map events the test could not tell from ours).
 * Not here: a Gemini stream, where the Google SDK builds three async generator functions of its own
 * per stream (anonymous, so the filter cannot name them).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEveryProvider, type EveryProvider } from '../fakes/every-provider.js';
import { startBuiltDaemon, type BuiltDaemon } from '../cli/cli-harness.js';

let fakes: EveryProvider | undefined;
let daemon: BuiltDaemon | undefined;
let oa: OpenAI;
let an: Anthropic;

beforeAll(async () => {
  fakes = await startEveryProvider();
  // Map events only, without each map's details (those make the log ~90 MB).
  daemon = await startBuiltDaemon({ providers: fakes.providers }, (dir) => ['--log-maps', '--no-log-maps-details', '--no-logfile-per-isolate', `--logfile=${join(dir, 'v8.log')}`]);
  oa = new OpenAI({ baseURL: `http://127.0.0.1:${daemon.port}/v1`, apiKey: 'unused', maxRetries: 0 });
  an = new Anthropic({ baseURL: `http://127.0.0.1:${daemon.port}`, apiKey: 'sk-ant-client-dummy', maxRetries: 0 });
});

afterAll(async () => {
  await daemon?.close();
  await fakes?.close();
});

/**
 * Not ours, so not counted: node's own objects keep their state under symbols, and on Node 20 some are
 * built per use with a transition each time (an AbortSignal an SDK needs, a web ReadableStream); the
 * Anthropic SDK adds `__span` to its request options and makes an async generator function
 * (`iterator`) per stream, whose prototype V8 copies and optimizes. docs/performance.md lists them.
 * A NormalizeCached event makes no map (it reuses V8's cached dictionary map): node's header object of
 * an upstream answer with more than 16 headers turns into a dictionary that way.
 */
const NOT_OURS = /^Transition,[^,]*,symbol\(|,__span @|^Normalize,NormalizeAndCopyAsPrototype,|^InitialMap,,iterator @|^SlowToFast,OptimizeAsPrototype,|^NormalizeCached,/;

/** Map creations and transitions logged so far, by kind and property (`Transition,stream`). */
function mapEvents(): string[] {
  return readFileSync(join(daemon!.dir, 'v8.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('map,'))
    .map((l) => {
      const f = l.split(',');
      // kind, V8's reason (for a normalization), the property; and where in the script it happened.
      return `${f[1]},${f[8]},${f.slice(9).join(',')} @${f[6]}:${f[7]}`;
    })
    .filter((e) => !NOT_OURS.test(e));
}

const messages = [{ role: 'user' as const, content: 'Write one short sentence about the sea.' }];

const PATHS: ReadonlyArray<[string, () => Promise<unknown>]> = [
  ['chat completion (OpenAI provider)', () => oa.chat.completions.create({ model: 'oa/gpt-4o-mini', messages })],
  [
    'chat stream (OpenAI provider, raw chunks)',
    async () => {
      const s = await oa.chat.completions.create({ model: 'oa/gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
      for await (const _ of s);
    },
  ],
  [
    'chat stream (Anthropic provider, translated chunks)',
    async () => {
      const s = await oa.chat.completions.create({ model: 'an/claude-haiku-4-5', messages, stream: true });
      for await (const _ of s);
    },
  ],
  ['chat completion (Gemini provider)', () => oa.chat.completions.create({ model: 'ge/gemini-2.5-flash', messages })],
  ['chat completion (Ollama provider)', () => oa.chat.completions.create({ model: 'ol/llama3.2:latest', messages })],
  [
    'chat stream (Ollama provider)',
    async () => {
      const s = await oa.chat.completions.create({ model: 'ol/llama3.2:latest', messages, stream: true });
      for await (const _ of s);
    },
  ],
  ['chat completion (Hugging Face provider)', () => oa.chat.completions.create({ model: 'hf/meta-llama/Llama-3.1-8B-Instruct', messages })],
  ['Messages (OpenAI provider, translated)', () => an.messages.create({ model: 'oa/gpt-4o-mini', max_tokens: 50, messages })],
  ['Messages stream (OpenAI provider, translated)', () => an.messages.stream({ model: 'oa/gpt-4o-mini', max_tokens: 50, messages }).finalMessage()],
  ['Messages stream (Anthropic provider, passed through)', () => an.messages.stream({ model: 'an/claude-haiku-4-5', max_tokens: 50, messages }).finalMessage()],
  ['Responses (OpenAI provider, translated)', () => oa.responses.create({ model: 'oa/gpt-4o-mini', input: 'Write one short sentence about the sea.' })],
];

describe('requests in a steady state build no new hidden classes (V8 maps)', () => {
  it.each(PATHS)('%s', async (_name, send) => {
    // Warm-up: first requests build their shapes once, and V8 tiers the code up.
    for (let i = 0; i < 150; i++) await send();
    const before = mapEvents().length;
    const N = 100;
    for (let i = 0; i < N; i++) await send();
    const added = mapEvents().slice(before);
    // A shape made per request shows as ≥ N events of one kind; stragglers (a late tier-up, a field
    // generalised once, a background job's first run during the window) are allowed.
    const byKind = new Map<string, number>();
    for (const e of added) byKind.set(e, (byKind.get(e) ?? 0) + 1);
    const worst = [...byKind].sort((a, b) => b[1] - a[1]).slice(0, 5);
    expect(added.length, `map events in ${N} requests: ${JSON.stringify(worst)}`).toBeLessThan(N / 4);
  }, 60_000);
});
