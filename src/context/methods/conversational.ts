/**
 * @module `conversational`: keeps the system messages and the last 4 messages, and replaces the turns
 * in between with a `[CONVERSATION SUMMARY]` system message written by the helper model.
 */
import { renderTranscript, splitSystem, takeTail, toUnits } from '../../tokens/turns.js';
import type { CondenseMethod } from './method.js';

const KEEP_LAST = 4;

export const conversational: CondenseMethod = async (messages, { helper }) => {
  if (messages.length <= KEEP_LAST) return messages;
  const { system, rest } = splitSystem(messages);
  // Whole units only: a tool-call message and its results are kept or summarised together.
  const { head, tail } = takeTail(toUnits(rest), KEEP_LAST);
  if (!head.length) return messages;
  const summary = await helper(
    [
      {
        role: 'user',
        content:
          'Summarise the following conversation concisely. Keep every fact, decision, name, number, code identifier and open question ' +
          'that later turns may rely on. Answer with the summary only.\n\n' +
          renderTranscript(head.flat()),
      },
    ],
    { temperature: 0.3, max_tokens: 1000 },
  );
  return [...system, { role: 'system', content: `[CONVERSATION SUMMARY]\n${summary}` }, ...tail.flat()];
};
