/**
 * @module `semantic`: gives the helper model the conversation and the current user query, and keeps
 * only what is relevant to that query as a `[RELEVANT CONTEXT]` system message, followed by the
 * latest turn (with its tool results, if it is a tool exchange).
 */
import { lastUserText, renderTranscript, splitSystem, takeTail, toUnits } from '../../tokens/turns.js';
import type { CondenseMethod } from './method.js';

export const semantic: CondenseMethod = async (messages, { helper }) => {
  if (messages.length <= 2) return messages;
  const { system, rest } = splitSystem(messages);
  const { head, tail } = takeTail(toUnits(rest), 1);
  if (!head.length) return messages;
  const query = lastUserText(messages);
  const relevant = await helper(
    [
      {
        role: 'user',
        content:
          'From the conversation below, extract only the information needed to answer the current query. Drop everything ' +
          'unrelated to it. Keep exact values (names, numbers, code, file paths). Answer with the extracted information only.\n\n' +
          `Current query:\n${query}\n\nConversation:\n${renderTranscript(head.flat())}`,
      },
    ],
    { temperature: 0.2, max_tokens: 2000 },
  );
  return [...system, { role: 'system', content: `[RELEVANT CONTEXT]\n${relevant}` }, ...tail.flat()];
};
