/**
 * The Responses stream writer against recorded fixtures (parts in → exact OpenAI events out), and the
 * invariants clients rely on: sequence_number counts up from 0 by one, every item added is done.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fixtureResponsesWriter as fixtureWriter, loadScenarios, runScenario } from '../writer-fixtures.js';
import { responseShell, responseSnapshot, snapshotSerializer, type Finished } from '../../../src/inbound/responses/response-object.js';

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
