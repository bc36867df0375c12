/**
 * @module Conversation helpers every condensation method shares: system/rest separation, grouping of
 * an assistant tool_calls message with its tool results into one unit (so no method ever splits or
 * drops half of a pair), and the "role: content" transcript the helper model reads.
 */
import type { ChatMessage, ContentPart } from '../providers/provider-adapter.js';

export function isSystem(m: ChatMessage): boolean {
  return m.role === 'system' || m.role === 'developer';
}

export function splitSystem(messages: readonly ChatMessage[]): { system: ChatMessage[]; rest: ChatMessage[] } {
  const system: ChatMessage[] = [];
  const rest: ChatMessage[] = [];
  for (const m of messages) (isSystem(m) ? system : rest).push(m);
  return { system, rest };
}

const isToolResult = (m: ChatMessage) => m.role === 'tool' || m.role === 'function';

/**
 * Groups messages into units: an assistant message with tool_calls together with the tool results
 * that follow it is one unit; every other message is a unit of its own. A stray tool result stays
 * with the unit before it.
 */
export function toUnits(messages: readonly ChatMessage[]): ChatMessage[][] {
  const units: ChatMessage[][] = [];
  for (const m of messages) {
    const last = units.at(-1);
    if (isToolResult(m) && last) last.push(m);
    else units.push([m]);
  }
  return units;
}

/** The newest units holding at least `minMessages` messages (whole units only). */
export function takeTail(units: readonly ChatMessage[][], minMessages: number): { head: ChatMessage[][]; tail: ChatMessage[][] } {
  let i = units.length;
  let count = 0;
  while (i > 0 && count < minMessages) count += units[--i]!.length;
  return { head: units.slice(0, i), tail: units.slice(i) };
}

export function textOf(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return (content as ContentPart[])
    .map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : p.type === 'image_url' ? '[image]' : ''))
    .filter(Boolean)
    .join(' ');
}

/** One "role: content" line per message; tool calls and results are spelled out so summaries keep them. */
export function renderTranscript(messages: readonly ChatMessage[]): string {
  const lines: string[] = [];
  for (const m of messages) {
    const text = textOf(m.content);
    if (m.tool_calls?.length) {
      const calls = m.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`).join(', ');
      lines.push(`${m.role}: ${text ? `${text} ` : ''}[called tools: ${calls}]`);
    } else if (isToolResult(m)) {
      lines.push(`${m.role}${m.name ? ` ${m.name}` : ''} result: ${text}`);
    } else {
      lines.push(`${m.role}: ${text}`);
    }
  }
  return lines.join('\n');
}

/** The last user message's text: the request's current task or query. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return textOf(messages[i]!.content);
  return '';
}
