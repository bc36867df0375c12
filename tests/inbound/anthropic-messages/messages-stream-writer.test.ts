/**
 * The Messages stream writer against recorded fixtures (parts in → exact Anthropic events out), and
 * the event grammar Anthropic's SDK relies on.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MessagesStreamWriter } from '../../../src/inbound/anthropic-messages/messages-stream-writer.js';
import { loadScenarios, runScenario } from '../writer-fixtures.js';

const dir = fileURLToPath(new URL('./fixtures', import.meta.url));
const writer = () => new MessagesStreamWriter({ id: 'msg_fixture', model: 'claude-sonnet-4-5', inputTokens: 42 });

describe('Messages stream writer fixtures', () => {
  for (const { name, scenario } of loadScenarios(dir)) {
    it(`${name}: ${scenario.description}`, () => {
      expect(runScenario(scenario, writer())).toBe(scenario.events);
    });
  }

  it('every event is `event: <name>` with a data line whose type names the same event', () => {
    for (const { scenario } of loadScenarios(dir)) {
      const frames = scenario.events.split('\n\n').filter(Boolean);
      for (const f of frames) {
        const [ev, data] = f.split('\n');
        expect(ev).toMatch(/^event: [a-z_]+$/);
        expect(JSON.parse(data!.slice(6)).type).toBe(ev!.slice(7));
      }
    }
  });
});
