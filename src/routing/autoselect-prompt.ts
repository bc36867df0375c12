/**
 * @module The selector prompt (CONTRACTS §1.8, v0.4 form): autoselect.md as the system message; the
 * conversation, the candidate list and the fallback as the user message. Tag-like text in the user's
 * words is neutralised, so a message cannot close `<aisbf_user_prompt>` early, fake a candidate list
 * or plant an answer tag.
 */
import type { ChatMessage, ChatRequest } from '../providers/provider-adapter.js';
import { renderTranscript } from '../tokens/turns.js';

/** The selector sees at most this much of the conversation (the newest part). */
const MAX_PROMPT_CHARS = 24_000;

/**
 * The prompt's own tags (`<aisbf_…>`, `<model>`, `<model_id>`, `<model_description>`, opening or
 * closing) become `&lt;…`: still readable to the model, never a tag.
 */
export function neutraliseTags(text: string): string {
  return text.replace(/<(\s*\/?\s*(?:aisbf_|model(?:_id|_description)?\s*>))/gi, '&lt;$1');
}

export interface SelectorCandidate {
  id: string;
  description: string;
}

export function buildSelectorRequest(
  skill: string,
  req: Pick<ChatRequest, 'messages'>,
  candidates: readonly SelectorCandidate[],
  fallback: string,
  model: string,
): ChatRequest {
  let conversation = renderTranscript(req.messages);
  if (conversation.length > MAX_PROMPT_CHARS) conversation = `…${conversation.slice(-MAX_PROMPT_CHARS)}`;
  const list = candidates
    .map((c) => `<model><model_id>${neutraliseTags(c.id)}</model_id><model_description>${neutraliseTags(c.description)}</model_description></model>`)
    .join('\n');
  const user =
    `<aisbf_user_prompt>\n${neutraliseTags(conversation)}\n</aisbf_user_prompt>\n` +
    `<aisbf_autoselect_list>\n${list}\n</aisbf_autoselect_list>\n` +
    `<aisbf_autoselect_fallback>${neutraliseTags(fallback)}</aisbf_autoselect_fallback>`;
  const messages: ChatMessage[] = [
    { role: 'system', content: skill },
    { role: 'user', content: user },
  ];
  return { model, messages, temperature: 0, max_tokens: 64, stop: ['</aisbf_model_autoselection>'], stream: false };
}
