/**
 * @module Recorded writer fixtures: one JSON file per scenario holding the internal stream parts that
 * go in and the exact SSE text that must come out. `runScenario` replays the parts through a writer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResponsesStreamWriter } from '../../src/inbound/responses/responses-stream-writer.js';
import { responseShell } from '../../src/inbound/responses/response-object.js';
import { RawChunkPart, type ChatStreamPart, type Usage } from '../../src/providers/openai-types.js';

export interface Scenario {
  description: string;
  /** Parts as JSON; `{ "type": "raw-chunk", "raw": "…" }` stands for an OpenAI upstream's verbatim chunk. */
  parts: Array<Record<string, unknown>>;
  /** The finalized usage handed to the writer's end (null: the stream fails instead). */
  usage: Usage | null;
  /** When set, the stream breaks after the parts with this error code and message. */
  error?: { type: string; message: string };
  /** The exact SSE text. */
  events: string;
}

export function loadScenarios(dir: string): Array<{ name: string; scenario: Scenario }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.replace(/\.json$/, ''), scenario: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Scenario }));
}

export function toParts(raw: Scenario['parts']): ChatStreamPart[] {
  return raw.map((p) => (p.type === 'raw-chunk' ? new RawChunkPart(p.raw as string) : (p as unknown as ChatStreamPart)));
}

/** Parts through a writer: start, each part, then end(usage) or fail(error). */
export function runScenario(
  s: Scenario,
  w: { start(): string; push(p: ChatStreamPart): string; end(u: Usage | undefined): string; fail(type: string, message: string): string },
): string {
  let out = w.start();
  for (const p of toParts(s.parts)) out += w.push(p);
  out += s.error ? w.fail(s.error.type, s.error.message) : w.end(s.usage ?? undefined);
  return out;
}

/** A Responses writer with a fixed shell and numbered item ids. */
export function fixtureResponsesWriter(): ResponsesStreamWriter {
  let n = 0;
  const shell = responseShell({ model: 'gpt-5-codex', instructions: 'Be brief.', tools: [] }, 'resp_fixture', 1767225600, 'gpt-5-codex');
  return new ResponsesStreamWriter(shell, (prefix) => `${prefix}_fixture${n++}`);
}
