/**
 * @module `algorithmic` (also spelled `algoritmic`): no model call. Drops very short messages and
 * exact repeats of the previous message from the same role, and collapses runs of blank space.
 * Unlike AISBF it keeps tool fields, never drops a tool-call message or a tool result, and never
 * drops the latest user message.
 */
import type { ChatMessage, ContentPart } from '../../providers/provider-adapter.js';
import { isSystem, textOf } from '../../tokens/turns.js';
import type { CondenseMethod } from './method.js';

const MIN_CHARS = 10;

function squeeze(text: string): string {
  return text.replace(/[ \t\f\v\r]+/g, ' ').replace(/ ?\n[ \n]*\n/g, '\n\n').trim();
}

function squeezeMessage(m: ChatMessage): ChatMessage {
  if (typeof m.content === 'string') return { ...m, content: squeeze(m.content) };
  if (Array.isArray(m.content)) {
    return { ...m, content: (m.content as ContentPart[]).map((p) => (p.type === 'text' && typeof p.text === 'string' ? { ...p, text: squeeze(p.text) } : p)) };
  }
  return m;
}

export const algorithmic: CondenseMethod = async (messages) => {
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === 'user') {
      lastUser = i;
      break;
    }
  }
  const out: ChatMessage[] = [];
  const lastByRole = new Map<string, string>();
  messages.forEach((original, i) => {
    const m = squeezeMessage(original);
    const isProtected = isSystem(m) || m.role === 'tool' || m.role === 'function' || !!m.tool_calls?.length || i === lastUser || i === messages.length - 1;
    const text = textOf(m.content);
    const hasImage = Array.isArray(m.content) && m.content.some((p) => p.type !== 'text');
    if (!isProtected && !hasImage) {
      if (text && text.length < MIN_CHARS) return;
      if (text && lastByRole.get(m.role) === text) return;
    }
    lastByRole.set(m.role, text);
    out.push(m);
  });
  return out;
};
