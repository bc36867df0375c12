/**
 * @module The internal chat stream → Anthropic Messages SSE events: `message_start` (with the input
 * tokens already counted), one content block at a time (`thinking`, `text`, `tool_use` with
 * `input_json_delta`), `message_delta` with stop_reason and usage, `message_stop`; `ping` on waits and
 * an `error` event when the stream fails midway. Frames are built from fixed string pieces; only the
 * delta text goes through JSON.stringify, unless it came as the upstream's own literal.
 */
import { randomToken } from '../../random-id.js';
import type { ChatStreamPart, FinishReason, Usage } from '../../providers/openai-types.js';
import { dispatchPart, type PartSink } from '../part-events.js';
import { toMessagesUsage, toStopReason } from './map-stop-reason.js';

export interface MessagesStreamMeta {
  id: string;
  /** The model name the client asked for, shown back to it. */
  model: string;
  /** Prompt tokens as counted before the call (message_start must carry real input usage). */
  inputTokens: number;
}

export function newMessageId(): string {
  return `msg_${randomToken(12, 'base64url')}`;
}

export function newToolUseId(): string {
  return `toolu_${randomToken(12, 'base64url')}`;
}

type BlockKind = 'text' | 'thinking' | 'tool';

const DELTA_HEAD = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":';
const STOP_HEAD = 'event: content_block_stop\ndata: {"type":"content_block_stop","index":';
const START_HEAD = 'event: content_block_start\ndata: {"type":"content_block_start","index":';
export const PING_FRAME = 'event: ping\ndata: {"type":"ping"}\n\n';

export class MessagesStreamWriter implements PartSink {
  /** Frames produced by the current call. */
  private out = '';
  private index = -1;
  private open: BlockKind | undefined;
  /** The tool-call index (internal stream) of the open tool_use block. */
  private openTool = -1;
  private finishReason: FinishReason | undefined;
  private sawTool = false;
  /** Upstream usage, as the stream reported it. */
  upstreamUsage: Usage | undefined;

  constructor(private readonly meta: MessagesStreamMeta) {}

  /** `message_start`, sent before the first content. */
  start(): string {
    return (
      'event: message_start\ndata: {"type":"message_start","message":{"id":' +
      JSON.stringify(this.meta.id) +
      ',"type":"message","role":"assistant","model":' +
      JSON.stringify(this.meta.model) +
      ',"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":' +
      this.meta.inputTokens +
      ',"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n'
    );
  }

  /** The frames for one part (often empty: usage and finish wait for the end). */
  push(part: ChatStreamPart): string {
    this.out = '';
    dispatchPart(part, this);
    return this.out;
  }

  private close(): void {
    if (this.open === undefined) return;
    this.out += STOP_HEAD + this.index + '}\n\n';
    this.open = undefined;
    this.openTool = -1;
  }

  private begin(kind: BlockKind, block: string): void {
    this.close();
    this.index++;
    this.open = kind;
    this.out += START_HEAD + this.index + ',"content_block":' + block + '}\n\n';
  }

  text(text: string): void {
    this.textLiteral(JSON.stringify(text));
  }

  textLiteral(literal: string): void {
    if (this.open !== 'text') this.begin('text', '{"type":"text","text":""}');
    this.out += DELTA_HEAD + this.index + ',"delta":{"type":"text_delta","text":' + literal + '}}\n\n';
  }

  reasoning(text: string): void {
    if (this.open !== 'thinking') this.begin('thinking', '{"type":"thinking","thinking":"","signature":""}');
    this.out += DELTA_HEAD + this.index + ',"delta":{"type":"thinking_delta","thinking":' + JSON.stringify(text) + '}}\n\n';
  }

  toolCall(index: number, id: string | undefined, name: string | undefined, args: string | undefined): void {
    // Upstreams stream tool calls one after another: a new index starts a new block.
    if (this.open !== 'tool' || this.openTool !== index) {
      this.begin('tool', '{"type":"tool_use","id":' + JSON.stringify(id ?? newToolUseId()) + ',"name":' + JSON.stringify(name ?? '') + ',"input":{}}');
      this.openTool = index;
      this.sawTool = true;
    }
    if (args) this.out += DELTA_HEAD + this.index + ',"delta":{"type":"input_json_delta","partial_json":' + JSON.stringify(args) + '}}\n\n';
  }

  finish(reason: FinishReason): void {
    this.finishReason = reason;
  }

  usage(usage: Usage): void {
    this.upstreamUsage = usage;
  }

  /** Closes the open block, then `message_delta` (stop_reason, usage) and `message_stop`. */
  end(finalUsage: Usage | undefined): string {
    this.out = '';
    this.close();
    const u = toMessagesUsage(finalUsage, this.meta.inputTokens);
    let usage = '{"input_tokens":' + u.input_tokens + ',"cache_creation_input_tokens":0,"cache_read_input_tokens":' + u.cache_read_input_tokens + ',"output_tokens":' + u.output_tokens;
    if (u.effective_context !== undefined) usage += ',"effective_context":' + u.effective_context;
    this.out +=
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"' +
      toStopReason(this.finishReason, this.sawTool) +
      '","stop_sequence":null},"usage":' +
      usage +
      '}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    return this.out;
  }

  /** An `error` event (Anthropic sends nothing after it). */
  fail(type: string, message: string): string {
    return 'event: error\ndata: {"type":"error","error":{"type":' + JSON.stringify(type) + ',"message":' + JSON.stringify(message) + '}}\n\n';
  }
}
