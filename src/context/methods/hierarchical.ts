/**
 * @module `hierarchical`: keeps the system messages, the newest turns and the active task (the last
 * user message) verbatim; older turns are summarised block by block, and the block summaries are
 * summarised again into one `[EARLIER CONVERSATION SUMMARY]` system message.
 */
import type { ChatMessage } from '../../providers/provider-adapter.js';
import { renderTranscript, splitSystem, takeTail, toUnits } from '../../tokens/turns.js';
import type { CondenseMethod } from './method.js';

const KEEP_LAST = 4;
/** Transcript characters per first-level block (≈ 4k tokens), so each helper call stays small. */
const BLOCK_CHARS = 16_000;

function blocks(units: ChatMessage[][]): string[] {
  const out: string[] = [];
  let current = '';
  for (const u of units) {
    const text = renderTranscript(u);
    if (current && current.length + text.length > BLOCK_CHARS) {
      out.push(current);
      current = '';
    }
    current = current ? `${current}\n${text}` : text;
  }
  if (current) out.push(current);
  return out;
}

const SUMMARY_OPTS = { temperature: 0.3, max_tokens: 1000 };

export const hierarchical: CondenseMethod = async (messages, { helper }) => {
  if (messages.length <= 2) return messages;
  const { system, rest } = splitSystem(messages);
  const units = toUnits(rest);
  const { head, tail } = takeTail(units, KEEP_LAST);
  // The active task stays verbatim even when it is older than the newest turns.
  const taskIndex = head.findLastIndex((u) => u.length === 1 && u[0]!.role === 'user');
  const task = taskIndex >= 0 && !tail.some((u) => u.some((m) => m.role === 'user')) ? head[taskIndex]! : undefined;
  const older = task ? head.filter((_, i) => i !== taskIndex) : head;
  if (!older.length) return messages;

  const parts = blocks(older);
  const firstLevel: string[] = [];
  for (const [i, block] of parts.entries()) {
    firstLevel.push(
      await helper(
        [
          {
            role: 'user',
            content:
              `Summarise part ${i + 1} of ${parts.length} of an earlier conversation. Keep facts, decisions, names, numbers, code ` +
              `identifiers, tool results and open questions. Answer with the summary only.\n\n${block}`,
          },
        ],
        SUMMARY_OPTS,
      ),
    );
  }
  const summary =
    firstLevel.length === 1
      ? firstLevel[0]!
      : await helper(
          [
            {
              role: 'user',
              content:
                'Merge these partial summaries of one conversation, in order, into a single concise summary. Keep every fact ' +
                `and open question. Answer with the summary only.\n\n${firstLevel.map((s, i) => `Part ${i + 1}:\n${s}`).join('\n\n')}`,
            },
          ],
          SUMMARY_OPTS,
        );
  return [...system, { role: 'system', content: `[EARLIER CONVERSATION SUMMARY]\n${summary}` }, ...(task ?? []), ...tail.flat()];
};
