/**
 * The Responses stream writer against recorded fixtures (parts in → exact OpenAI events out), and the
 * invariants clients rely on: sequence_number counts up from 0 by one, every item added is done.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixtureResponsesWriter as fixtureWriter, loadScenarios, runScenario } from '../writer-fixtures.js';
import { messageItem, outputText, responseShell, responseSnapshot, snapshotSerializer, type Finished } from '../../../src/inbound/responses/response-object.js';
import type { ChatStreamPart } from '../../../src/providers/openai-types.js';
import { sseEvents } from '../../helpers/recorded.js';

const dir = fileURLToPath(new URL('./fixtures', import.meta.url));

describe('Responses stream writer fixtures', () => {
  for (const { name, scenario } of loadScenarios(dir)) {
    it(`${name}: ${scenario.description}`, () => {
      expect(runScenario(scenario, fixtureWriter())).toBe(scenario.events);
    });
  }

  it('numbers events 0, 1, 2 … and closes every output item it opens unless it failed', () => {
    for (const { scenario } of loadScenarios(dir)) {
      const events = scenario.events
        .split('\n\n')
        .filter(Boolean)
        .map((f) => JSON.parse(f.split('\n')[1]!.slice(6)) as { type: string; sequence_number: number; output_index?: number });
      expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
      const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => e.output_index);
      const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.output_index);
      // A failed stream ends at response.failed, items left open (as OpenAI's do).
      if (events.at(-1)!.type !== 'response.failed') expect(done).toEqual(added);
      else expect(done.length).toBeLessThanOrEqual(added.length);
      expect(events[0]!.type).toBe('response.created');
      expect(['response.completed', 'response.incomplete', 'response.failed']).toContain(events.at(-1)!.type);
    }
  });
});

describe('snapshotSerializer', () => {
  it('gives exactly JSON.stringify(responseSnapshot(…)) for every state, whatever the echoed request holds', () => {
    const tricky = 'quotes " and \\ backslashes, a NUL \u0000, "\u0000aisbf-snapshot-0000", emoji 🙂, </script>';
    const shell = responseShell({ model: 'm', instructions: tricky, metadata: { k: tricky }, tools: [] } as never, 'resp_x', 1, 'm');
    const write = snapshotSerializer(shell);
    const item = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [] };
    const states: Finished[] = [
      { status: 'in_progress', output: [] },
      { status: 'completed', output: [item], usage: { input_tokens: 1, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 3 } },
      { status: 'incomplete', incomplete: 'max_output_tokens', output: [item] },
      { status: 'failed', output: [], error: { code: 'server_error', message: tricky } },
    ];
    for (const f of states) expect(write(f)).toBe(JSON.stringify(responseSnapshot(shell, f)));
  });
});

describe("a message's JSON, made from its deltas' literals", () => {
  const TRICKY = ['quotes " and \\ ', 'a NUL \u0000, a CR \r, tab \t ', 'é ü 中文 ', 'emoji 🙂 ', '</script> ', '\u2028 end'];
  const events = (text: string) => sseEvents(text).map((e) => JSON.parse(e.data) as Record<string, any>);

  /** Streams `parts` to a fresh writer and returns its events. */
  function stream(parts: ChatStreamPart[]) {
    const w = fixtureWriter();
    let out = w.start();
    for (const p of parts) out += w.push(p);
    out += w.end({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    return { out, all: events(out), final: w.final! };
  }

  it('is byte for byte what JSON.stringify makes of the item, in output_item.done, content_part.done and the completed response', () => {
    const full = TRICKY.join('');
    const { out, all, final } = stream(TRICKY.map((text) => ({ type: 'text-delta', text })));
    const item = messageItem('msg_fixture0', full, 'completed');
    expect(out).toContain('"item":' + JSON.stringify(item) + ',');
    expect(out).toContain('"part":' + JSON.stringify(outputText(full)) + ',');
    const completed = all.at(-1)!;
    expect(completed.type).toBe('response.completed');
    expect(out).toContain('"output":' + JSON.stringify([item]) + ',');
    expect(completed.response.output).toEqual([item]);
    // The stored copy holds the decoded text.
    expect(final.output).toEqual([item]);
  });

  it("keeps an upstream's own escapes (spliced literals) and means the same text", () => {
    // As OpenAI-compatible servers write them: \u escapes for non-ASCII, an escaped slash.
    const literals = ['"caf\\u00e9 "', '"a\\/b "', '"\\ud83d\\ude42"'];
    const full = literals.map((l) => JSON.parse(l) as string).join('');
    const chunk = (lit: string) => `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":${lit}},"logprobs":null,"finish_reason":null}]}`;
    const parts = literals.map((l) => ({ type: 'chunk', final: false, raw: chunk(l), chunk: JSON.parse(chunk(l)) }) as unknown as ChatStreamPart);
    const { all, final } = stream(parts);
    const item = messageItem('msg_fixture0', full, 'completed');
    expect(all.find((e) => e.type === 'response.output_item.done')!.item).toEqual(item);
    expect(all.find((e) => e.type === 'response.content_part.done')!.part).toEqual(outputText(full));
    expect(all.find((e) => e.type === 'response.output_text.done')!.text).toBe(full);
    expect(all.at(-1)!.response.output).toEqual([item]);
    expect(final.output).toEqual([item]);
  });
});
