/**
 * @module AISBF's rotation report (CONTRACTS.md §1.3 steps 2 and 6, §6.5): when no candidate of a
 * rotation could serve a request, the client gets a `chat.completion` whose assistant text explains
 * why, with `aisbf_error`, `rotation_id`, `error_details[]` (each candidate's state, cooldown, failure
 * count and last error — never a key), `attempted_models`, `attempted_count`, `max_retries` and
 * `last_error`, as data; the inbound layer renders it (inbound/openai-chat/render-rotation-report.ts).
 */
import { redactText } from '../log.js';
import type { ProviderError } from '../providers/provider-error.js';
import { HttpError } from '../errors/http-error.js';
import { describeProviderError } from './describe-provider-error.js';
import type { Candidate } from './candidate.js';
import type { CandidateState } from './routing-state.js';

/** What happened to a candidate in this request. */
export type CandidateOutcomeKind =
  | 'failed'
  | 'skipped_cooling'
  | 'skipped_rate_limited'
  | 'skipped_disabled'
  | 'skipped_stopped'
  | 'skipped_no_key'
  | 'skipped_context_too_small'
  | 'not_tried';

export interface CandidateOutcome {
  candidate: Candidate;
  outcome: CandidateOutcomeKind;
  error?: ProviderError;
}

export interface ErrorDetail {
  provider_id: string;
  model: string;
  /** Live state after this request: healthy, cooling, rate_limited or disabled. */
  state: CandidateState['state'];
  /** What happened to it in this request. */
  outcome: CandidateOutcomeKind;
  cooldown_remaining_seconds: number | null;
  available_at: string | null;
  failure_count: number;
  last_error: string | null;
}

export interface RotationReport {
  aisbf_error: true;
  rotation_id: string;
  error_details: ErrorDetail[];
  attempted_models: string[];
  attempted_count: number;
  max_retries: number;
  last_error: string | null;
}

const OUTCOME_TEXT: Record<CandidateOutcomeKind, string> = {
  failed: 'failed',
  skipped_cooling: 'skipped (cooling down)',
  skipped_rate_limited: 'skipped (rate limited)',
  skipped_disabled: 'skipped (provider disabled)',
  skipped_stopped: 'skipped (model stopped)',
  skipped_no_key: 'skipped (no API key)',
  skipped_context_too_small: 'skipped (context window not larger than the one that overflowed)',
  not_tried: 'not tried (attempt limit reached)',
};

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The report as an error: routes that render chat completions turn it into AISBF's response. */
export class RotationUnavailableError extends HttpError {
  constructor(
    readonly report: RotationReport,
    readonly text: string,
    /** Seconds until the soonest candidate recovers; undefined when none will by waiting. */
    readonly retryAfterSeconds: number | undefined,
    readonly notifyErrors: boolean,
    /** Some member is over a rate limit (skipped for it, or its last failure was a 429). */
    readonly rateLimited: boolean = false,
  ) {
    super(429, text, {
      code: 'rotation_unavailable',
      headers: retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {},
      body: { ...report },
    });
  }
}

export interface ReportInput {
  rotationId: string;
  outcomes: readonly CandidateOutcome[];
  /** Live state of each candidate, read after the attempts. */
  stateOf: (c: Candidate) => CandidateState;
  now: number;
  maxRetries: number;
  lastError: ProviderError | undefined;
  notifyErrors: boolean;
}

export function buildRotationError(input: ReportInput): RotationUnavailableError {
  const { now } = input;
  const attempted = input.outcomes.filter((o) => o.outcome === 'failed');
  let soonest: number | undefined;
  const details: ErrorDetail[] = input.outcomes.map((o) => {
    const s = input.stateOf(o.candidate);
    const waitable = s.state === 'cooling' || s.state === 'rate_limited';
    if (waitable && s.until !== undefined) soonest = soonest === undefined ? s.until : Math.min(soonest, s.until);
    // A candidate that is neither cooling, limited nor disabled could serve the next request at once.
    else if (s.state === 'healthy' && o.outcome !== 'skipped_no_key' && o.outcome !== 'skipped_context_too_small') soonest = now;
    return {
      provider_id: o.candidate.providerId,
      model: o.candidate.model,
      state: s.state,
      outcome: o.outcome,
      cooldown_remaining_seconds: waitable && s.until !== undefined ? seconds(s.until - now) : null,
      available_at: waitable && s.until !== undefined ? new Date(s.until).toISOString() : null,
      failure_count: s.failures,
      last_error: o.error ? redactText(describeProviderError(o.error)) : s.lastError,
    };
  });
  const lastError = input.lastError ? redactText(describeProviderError(input.lastError)) : null;
  const report: RotationReport = {
    aisbf_error: true,
    rotation_id: input.rotationId,
    error_details: details,
    attempted_models: attempted.map((o) => o.candidate.key),
    attempted_count: attempted.length,
    max_retries: input.maxRetries,
    last_error: lastError,
  };
  const retryAfter = soonest === undefined ? undefined : seconds(soonest - now);
  const rateLimited = input.outcomes.some((o) => o.outcome === 'skipped_rate_limited' || o.error?.kind === 'rate_limit') || details.some((d) => d.state === 'rate_limited');
  return new RotationUnavailableError(report, reportText(report, retryAfter), retryAfter, input.notifyErrors, rateLimited);
}

function reportText(r: RotationReport, retryAfter: number | undefined): string {
  const lines = [`Rotation '${r.rotation_id}' could not serve this request: no candidate was available or every attempt failed.`, ''];
  for (const d of r.error_details) {
    let line = `- ${d.provider_id}/${d.model}: ${OUTCOME_TEXT[d.outcome]}; now ${d.state.replace('_', ' ')}`;
    if (d.cooldown_remaining_seconds !== null) line += ` for ${d.cooldown_remaining_seconds} s more`;
    line += `; ${d.failure_count} consecutive failure${d.failure_count === 1 ? '' : 's'}`;
    if (d.last_error) line += `; last error: ${d.last_error}`;
    lines.push(line);
  }
  lines.push('', `Attempted ${r.attempted_count} of at most ${r.max_retries}${r.attempted_models.length ? `: ${r.attempted_models.join(', ')}` : ''}.`);
  if (retryAfter !== undefined) lines.push(`Retry after ${retryAfter} s.`);
  return lines.join('\n');
}
