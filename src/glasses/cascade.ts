/**
 * @module The glasses cascade (CONTRACTS.md §2 "Chain", fixed by §6.14): each configured target in
 * order gets the frame and the prompt; a target that answers is asked, text only, whether it needs
 * another AI's help — a bare YES moves on, anything else stops. A failing target is recorded and
 * skipped: an error text is never an answer. With more than one answer the judge picks or merges
 * them; if the judge fails, the last answer stands.
 */
import type { Logger } from 'pino';
import type { CallContext, ChatCompletion, ChatRequest, Usage } from '../providers/provider-adapter.js';
import { ProviderError } from '../providers/provider-error.js';
import { HttpError } from '../errors/http-error.js';
import { describeProviderError } from '../routing/describe-provider-error.js';
import { redactText } from '../log.js';
import type { Candidate } from '../routing/candidate.js';
import { candidatesForName } from '../routing/target-candidates.js';
import type { Runtime } from '../runtime.js';
import { internalMeta, runRequest, type PipelineDeps } from '../pipeline/run-request.js';
import type { RequestMeta } from '../pipeline/request-meta.js';
import type { DebugLog } from './debug-log.js';
import type { ProfileApiKeys } from './glasses-data.js';
import { groupByProfileKey } from './profile-keys.js';

export interface CascadeInput {
  runtime: Runtime;
  cascade: readonly string[];
  judge: string | undefined;
  prompt: string;
  /** The frame, with its sniffed (real) mime type. */
  image: { mime: string; base64: string };
  profileKeys: ProfileApiKeys;
  /** The pipeline every call goes through (health, rate limits, admission, accounting). */
  deps: PipelineDeps;
  /** The `/process` request: each call is an internal request under it. */
  meta: RequestMeta;
  log: Logger;
  /** Bounds each upstream call (glasses.timeout_seconds). */
  timeoutMs: number;
  debug: DebugLog;
}

export interface CascadeOutcome {
  /** null when no target answered. */
  answer: string | null;
  /** target → its answer, in the order they answered. */
  responses: Record<string, string>;
  errors: string[];
  judged: boolean;
}

/** The "needs help?" call gets less time than an answer (Frame-Backend: 15 s). */
const CHECK_TIMEOUT_MS = 15_000;

export function needsHelpPrompt(prompt: string, answer: string): string {
  return (
    `You were asked about an image: "${prompt}"\n` +
    `Your answer was: "${answer}"\n\n` +
    'Do you need help from another AI to give a better answer? Reply with exactly one word: YES or NO.'
  );
}

export function judgePrompt(prompt: string, responses: Record<string, string>): string {
  const blocks = Object.entries(responses).map(([target, text], i) => `[${i + 1}] ${target}:\n${text}`);
  return (
    `Several AI models answered the same request about an image.\nRequest: "${prompt}"\n\n${blocks.join('\n\n')}\n\n` +
    'Give the single best answer to the request: pick the most accurate and helpful response, or combine them into a better one. ' +
    'Reply with the answer only, without mentioning the models.'
  );
}

/** Strict: YES only when the first word of the reply is YES (any case, ignoring leading punctuation). */
export function parseNeedsHelp(reply: string): boolean {
  const m = /^[^A-Za-z]*([A-Za-z]+)/.exec(reply);
  return m?.[1]?.toUpperCase() === 'YES';
}

/** The text of a completion; a reply without text is a malformed answer (the loop may fail over). */
export function completionText(c: ChatCompletion, cand: Candidate): string {
  const content = c.choices?.[0]?.message?.content;
  let text = '';
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) text = content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
  text = text.trim();
  if (!text) throw new ProviderError('the model returned no text', { kind: 'malformed', provider: cand.providerId, model: cand.model });
  return text;
}

function errorText(err: unknown): string {
  if (err instanceof ProviderError) return redactText(describeProviderError(err));
  if (err instanceof HttpError) return redactText(err.message);
  return 'internal error';
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

function preview(text: string, n = 80): string {
  return text.length > n ? `${text.slice(0, n)}...` : text;
}

/** One call's text and usage (the usage fills the candidate's token windows). */
interface Reply {
  text: string;
  usage?: Usage;
}

type Attempt = (c: Candidate, ctx: CallContext) => Promise<Reply>;

/** The candidates of a configured target (provider/model or rotation), and the rotation it names. */
function targetCandidates(input: CascadeInput, target: string): { name: string; candidates: Candidate[]; rotation?: string } {
  return { name: target, candidates: candidatesForName(input.runtime, target), rotation: input.runtime.rotations.has(target) ? target : undefined };
}

/**
 * Runs `attempt` over `candidates` through the one attempt loop, a group at a time: each group takes
 * one profile key (or none). A group that fails in a way that may fail over hands on to the next.
 */
async function callCandidates(
  input: CascadeInput,
  route: string,
  target: { name: string; candidates: readonly Candidate[]; rotation?: string },
  attempt: Attempt,
  timeoutMs: number,
): Promise<{ value: Reply; candidate: Candidate }> {
  let lastError: unknown;
  for (const group of groupByProfileKey(target.candidates, input.profileKeys)) {
    const keys = group.key ? { providerKey: group.key } : {};
    try {
      return await runRequest(input.deps, internalMeta(input.meta, route, keys), {
        kind: 'capability',
        target: { name: target.name, candidates: group.candidates, rotationId: target.rotation },
        keys,
        timeoutMs,
        call: attempt,
        usageOf: (v) => v.usage,
      });
    } catch (err) {
      if ((err instanceof ProviderError && err.policy.failsOver) || err instanceof HttpError) {
        lastError = err;
        continue;
      }
      throw err;
    }
  }
  throw lastError ?? new ProviderError('no provider could serve this request', { kind: 'server', status: 503, provider: '-', model: '-' });
}

const textAttempt =
  (text: string): Attempt =>
  async (c, ctx) => {
    const req: ChatRequest = { model: c.model, messages: [{ role: 'user', content: text }], temperature: 0 };
    const completion = await c.adapter.chat(req, ctx);
    return { text: completionText(completion, c), usage: completion.usage };
  };

export async function runCascade(input: CascadeInput): Promise<CascadeOutcome> {
  const { debug } = input;
  const responses: Record<string, string> = {};
  const errors: string[] = [];
  let last: string | null = null;
  const imageUrl = `data:${input.image.mime};base64,${input.image.base64}`;
  const vision: Attempt = async (c, ctx) => {
    const req: ChatRequest = {
      model: c.model,
      messages: [{ role: 'user', content: [{ type: 'text', text: input.prompt }, { type: 'image_url', image_url: { url: imageUrl } }] }],
    };
    const completion = await c.adapter.chat(req, ctx);
    return { text: completionText(completion, c), usage: completion.usage };
  };

  for (let i = 0; i < input.cascade.length; i++) {
    const target = input.cascade[i]!;
    const started = Date.now();
    debug.add('AI', `Asking ${target} (${i + 1}/${input.cascade.length})`);
    let served: { value: Reply; candidate: Candidate };
    try {
      served = await callCandidates(input, 'internal:glasses', targetCandidates(input, target), vision, input.timeoutMs);
    } catch (err) {
      if (!(err instanceof ProviderError || err instanceof HttpError)) throw err;
      const msg = `${target}: ${errorText(err)}`;
      errors.push(msg);
      debug.add('ERROR', `${msg}; moving on`);
      continue;
    }
    const text = served.value.text;
    const label = responses[target] === undefined ? target : `${target}#${i + 1}`;
    responses[label] = text;
    last = text;
    debug.add('AI', `${served.candidate.key} answered in ${seconds(Date.now() - started)} s: ${preview(text)}`);

    if (i === input.cascade.length - 1) break;
    let help = false;
    try {
      const check = await callCandidates(input, 'internal:check', { name: served.candidate.key, candidates: [served.candidate] }, textAttempt(needsHelpPrompt(input.prompt, text)), Math.min(input.timeoutMs, CHECK_TIMEOUT_MS));
      help = parseNeedsHelp(check.value.text);
      debug.add('CHECK', `${served.candidate.key} replied "${preview(check.value.text, 20)}": ${help ? 'needs help, asking the next target' : 'confident, stopping'}`);
    } catch (err) {
      if (!(err instanceof ProviderError || err instanceof HttpError)) throw err;
      debug.add('CHECK', `the check failed (${errorText(err)}): stopping`);
    }
    if (!help) break;
  }

  const count = Object.keys(responses).length;
  if (count <= 1 || last === null) return { answer: last, responses, errors, judged: false };
  if (!input.judge) {
    debug.add('JUDGE', `${count} answers and no judge configured: using the last answer`);
    return { answer: last, responses, errors, judged: false };
  }
  const started = Date.now();
  try {
    const judged = await callCandidates(input, 'internal:judge', targetCandidates(input, input.judge), textAttempt(judgePrompt(input.prompt, responses)), input.timeoutMs);
    debug.add('JUDGE', `${judged.candidate.key} judged ${count} answers in ${seconds(Date.now() - started)} s`);
    return { answer: judged.value.text, responses, errors, judged: true };
  } catch (err) {
    if (!(err instanceof ProviderError || err instanceof HttpError)) throw err;
    const msg = `judge ${input.judge}: ${errorText(err)}`;
    errors.push(msg);
    debug.add('ERROR', `${msg}; using the last answer`);
    return { answer: last, responses, errors, judged: false };
  }
}
