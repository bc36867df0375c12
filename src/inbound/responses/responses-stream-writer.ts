/**
 * @module The internal chat stream → Responses API events, in OpenAI's order and with a running
 * `sequence_number`: response.created, response.in_progress; per output item output_item.added, its
 * parts (reasoning_summary_part/_text, content_part + output_text, function_call_arguments) and
 * output_item.done; then response.completed (or response.incomplete) with usage, or response.failed.
 * Per-chunk frames are fixed string pieces around the JSON-encoded delta.
 */
import { copyWith } from '../../copy-with.js';
import type { ChatStreamPart, FinishReason, Usage } from '../../providers/openai-types.js';
import { dispatchPart, type PartSink } from '../part-events.js';
import { finishedState } from './render-responses-response.js';
import {
  functionCallItem,
  completedMessageJson,
  messageItem,
  newOutputId,
  outputTextJson,
  reasoningItem,
  responseSnapshot,
  snapshotSerializer,
  toResponsesUsage,
  type OutputItem,
  type ResponseShell,
} from './response-object.js';

type Open =
  | { kind: 'reasoning'; id: string; head: string; text: string }
  /** `json`: the text so far as the inside of a JSON string literal (deltas' literals joined, never decoded per delta). */
  | { kind: 'message'; id: string; head: string; json: string }
  | { kind: 'call'; id: string; head: string; callId: string; name: string; args: string; index: number };

/** A message item's text, decoded from its joined literals: once an item, for the objects that hold it. */
function decodedText(o: Extract<Open, { kind: 'message' }>): string {
  return JSON.parse('"' + o.json + '"') as string;
}

export class ResponsesStreamWriter implements PartSink {
  private out = '';
  private seq = 0;
  private open: Open | undefined;
  private readonly output: OutputItem[] = [];
  /**
   * Each closed item's JSON, as its output_item.done event carried it: the completed response's
   * `output` is these joined, so a message's text is encoded once (from its deltas' own literals)
   * rather than again for every event and snapshot that holds it.
   */
  private readonly outputJson: string[] = [];
  private finishReason: FinishReason | undefined;
  /** The final `response` object, once the stream ended (for the store). */
  final: Record<string, unknown> | undefined;
  /** The response object as JSON, the shell serialized once for all three snapshots. */
  private readonly snapshot: ReturnType<typeof snapshotSerializer>;

  constructor(
    private readonly shell: ResponseShell,
    /** Output item ids (deterministic in fixtures). */
    private readonly newId: (prefix: 'msg' | 'fc' | 'rs') => string = newOutputId,
  ) {
    this.snapshot = snapshotSerializer(shell);
  }

  private event(type: string, body: string): void {
    this.out += 'event: ' + type + '\ndata: {"type":"' + type + '",' + body + ',"sequence_number":' + this.seq++ + '}\n\n';
  }

  /** response.created and response.in_progress. */
  start(): string {
    this.out = '';
    const snapshot = this.snapshot({ status: 'in_progress', output: [] });
    this.event('response.created', '"response":' + snapshot);
    this.event('response.in_progress', '"response":' + snapshot);
    return this.out;
  }

  push(part: ChatStreamPart): string {
    this.out = '';
    dispatchPart(part, this);
    return this.out;
  }

  private close(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    const idx = this.output.length;
    let item: OutputItem;
    let itemJson: string;
    if (o.kind === 'reasoning') {
      const text = JSON.stringify(o.text);
      this.event('response.reasoning_summary_text.done', o.head + ',"summary_index":0,"text":' + text);
      this.event('response.reasoning_summary_part.done', o.head + ',"summary_index":0,"part":{"type":"summary_text","text":' + text + '}');
      item = reasoningItem(o.id, o.text);
      itemJson = JSON.stringify(item);
    } else if (o.kind === 'message') {
      const literal = '"' + o.json + '"';
      const partJson = outputTextJson(literal);
      this.event('response.output_text.done', o.head + ',"content_index":0,"text":' + literal + ',"logprobs":[]');
      this.event('response.content_part.done', o.head + ',"content_index":0,"part":' + partJson);
      // The object (for the store) needs the text itself, decoded once; its JSON is made from the literal.
      item = messageItem(o.id, decodedText(o), 'completed');
      itemJson = completedMessageJson(o.id, partJson);
    } else {
      this.event('response.function_call_arguments.done', o.head + ',"arguments":' + JSON.stringify(o.args) + ',"name":' + JSON.stringify(o.name));
      item = functionCallItem(o.id, o.callId, o.name, o.args, 'completed');
      itemJson = JSON.stringify(item);
    }
    this.event('response.output_item.done', '"output_index":' + idx + ',"item":' + itemJson);
    this.output.push(item);
    this.outputJson.push(itemJson);
  }

  private head(id: string): string {
    return '"item_id":"' + id + '","output_index":' + this.output.length;
  }

  reasoning(text: string): void {
    let o = this.open;
    if (o?.kind !== 'reasoning') {
      this.close();
      const id = this.newId('rs');
      o = this.open = { kind: 'reasoning', id, head: this.head(id), text: '' };
      this.event('response.output_item.added', '"output_index":' + this.output.length + ',"item":' + JSON.stringify(reasoningItem(id, undefined)));
      this.event('response.reasoning_summary_part.added', o.head + ',"summary_index":0,"part":{"type":"summary_text","text":""}');
    }
    o.text += text;
    this.event('response.reasoning_summary_text.delta', o.head + ',"summary_index":0,"delta":' + JSON.stringify(text));
  }

  text(text: string): void {
    this.textLiteral(JSON.stringify(text));
  }

  textLiteral(literal: string): void {
    let o = this.open;
    if (o?.kind !== 'message') {
      this.close();
      const id = this.newId('msg');
      o = this.open = { kind: 'message', id, head: this.head(id), json: '' };
      this.event('response.output_item.added', '"output_index":' + this.output.length + ',"item":' + JSON.stringify(messageItem(id, '', 'in_progress')));
      this.event('response.content_part.added', o.head + ',"content_index":0,"part":{"type":"output_text","text":"","annotations":[],"logprobs":[]}');
    }
    o.json += literal.slice(1, -1);
    this.event('response.output_text.delta', o.head + ',"content_index":0,"delta":' + literal + ',"logprobs":[]');
  }

  toolCall(index: number, id: string | undefined, name: string | undefined, args: string | undefined): void {
    let o = this.open;
    if (o?.kind !== 'call' || o.index !== index) {
      this.close();
      const itemId = this.newId('fc');
      o = this.open = { kind: 'call', id: itemId, head: this.head(itemId), callId: id ?? `call_${itemId.slice(3, 27)}`, name: name ?? '', args: '', index };
      this.event('response.output_item.added', '"output_index":' + this.output.length + ',"item":' + JSON.stringify(functionCallItem(itemId, o.callId, o.name, '', 'in_progress')));
    }
    if (args) {
      o.args += args;
      this.event('response.function_call_arguments.delta', o.head + ',"delta":' + JSON.stringify(args));
    }
  }

  finish(reason: FinishReason): void {
    this.finishReason = reason;
  }

  /** Upstream usage, as the stream reported it (the route finalizes it for `end`). */
  upstreamUsage: Usage | undefined;

  usage(usage: Usage): void {
    this.upstreamUsage = usage;
  }

  /** Closes the open item, then response.completed (or response.incomplete) with usage. */
  end(usage: Usage | undefined): string {
    this.out = '';
    this.close();
    const state = finishedState(this.finishReason);
    const f = copyWith(state, { output: this.output, outputJson: '[' + this.outputJson.join(',') + ']', usage: usage ? toResponsesUsage(usage) : undefined });
    this.final = responseSnapshot(this.shell, f);
    this.event(state.status === 'completed' ? 'response.completed' : 'response.incomplete', '"response":' + this.snapshot(f));
    return this.out;
  }

  /**
   * The client left before the end: what the stream had made, as an `incomplete` response (sent to
   * nobody; the route stores it, so the id the client already holds still answers GET and
   * `previous_response_id`). An open message or reasoning item keeps its text so far; an open
   * function call is dropped, its arguments being cut JSON that nothing could run.
   */
  interrupted(): void {
    if (this.final) return;
    this.final = responseSnapshot(this.shell, { status: 'incomplete', output: this.outputSoFar() });
  }

  /** The closed items, and the open one as far as it got (a function call's cut arguments are not kept). */
  private outputSoFar(): OutputItem[] {
    const o = this.open;
    if (o?.kind === 'message') return [...this.output, messageItem(o.id, decodedText(o), 'incomplete')];
    if (o?.kind === 'reasoning') return [...this.output, reasoningItem(o.id, o.text)];
    return this.output;
  }

  /** response.failed: the stream broke after it began (`code`: see `failureCode`), with what it had made. */
  fail(code: string, message: string): string {
    this.out = '';
    const f = { status: 'failed' as const, output: this.outputSoFar(), error: { code, message } };
    this.final = responseSnapshot(this.shell, f);
    this.event('response.failed', '"response":' + this.snapshot(f));
    return this.out;
  }
}

/**
 * response.failed's `error.code`. The Responses API names a closed set (the SDK's
 * `ResponseError['code']`), not the chat envelope's types (`api_error`, …): a stream that broke after
 * it began failed upstream, so `rate_limit_exceeded` for a 429 and `server_error` for the rest.
 */
export function failureCode(status: number): 'rate_limit_exceeded' | 'server_error' {
  return status === 429 ? 'rate_limit_exceeded' : 'server_error';
}
