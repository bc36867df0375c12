/**
 * @module The video job service: records jobs started upstream under our own ids, polls unfinished
 * ones in the background on one timer (aisbf.json `capabilities.video_poll_seconds`), refreshes a job
 * on a client's GET when its state is older than one interval, and opens the finished bytes. Jobs are
 * rows in SQLite, so polling resumes after a restart.
 */
import type { Logger } from 'pino';
import type { CallContext, VideoContentVariant, VideoJob } from '../providers/provider-adapter.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Runtime } from '../runtime.js';
import { HttpError } from '../errors/http-error.js';
import type { Db } from '../store/db.js';
import { FINAL_STATUSES, VideoJobStore, newVideoJobId, type VideoJobRow, type VideoStatus } from '../store/jobs.js';
import type { Candidate, ClientKeys } from './candidate.js';
import { resolveKey } from './resolve-key.js';

export const DEFAULT_VIDEO_POLL_SECONDS = 10;
const STATUSES: ReadonlySet<string> = new Set<VideoStatus>(['queued', 'in_progress', 'completed', 'failed']);

/** OpenAI's `video` object, as clients see a job. */
export interface VideoView {
  id: string;
  object: 'video';
  model: string;
  status: VideoStatus;
  progress: number;
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  error: { code: string; message: string } | null;
  prompt: string | null;
  seconds: string | null;
  size: string | null;
  remixed_from_video_id: null;
}

export interface StartedJob {
  candidate: Candidate;
  job: VideoJob;
  /** The `model` the client sent. */
  requestedModel: string;
  rotationId?: string;
  keys: ClientKeys;
  /** The prompt sent, shown when the upstream's job object has none. */
  prompt?: string;
}

export interface VideoJobServiceOptions {
  db: Db;
  runtime: () => Runtime;
  log: Logger;
}

export class VideoJobService {
  readonly store: VideoJobStore;
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Map<string, Promise<VideoJobRow>>();
  private readonly controller = new AbortController();
  private stopped = false;

  constructor(private readonly opts: VideoJobServiceOptions) {
    this.store = new VideoJobStore(opts.db);
  }

  /** The poll interval, read from the live config so a reload changes it. */
  intervalMs(): number {
    const v = this.opts.runtime().config.aisbf.capabilities?.video_poll_seconds;
    return 1000 * (typeof v === 'number' && v > 0 ? v : DEFAULT_VIDEO_POLL_SECONDS);
  }

  /** Starts the background timer (one at a time; the next tick is scheduled after a pass ends). */
  start(): void {
    if (this.stopped || this.timer) return;
    const tick = () => {
      this.timer = undefined;
      void this.pollOnce()
        .catch((err: unknown) => this.opts.log.error({ err: (err as Error).message }, 'video job poll pass failed'))
        .finally(() => {
          if (!this.stopped) this.schedule(tick);
        });
    };
    this.schedule(tick);
  }

  private schedule(tick: () => void): void {
    this.timer = setTimeout(tick, this.intervalMs());
    this.timer.unref();
  }

  /** Stops the timer, cancels in-flight polls and waits for them, so the database can be closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller.abort(new ClientGoneError());
    await Promise.allSettled([...this.inflight.values()]);
  }

  /** One background pass: refreshes every unfinished job that can be polled without a client's key. */
  async pollOnce(): Promise<void> {
    const due = this.store.active().filter((r) => r.client_key === 0);
    await Promise.allSettled(due.map((r) => this.refresh(r)));
  }

  /** Records a job an adapter just started. */
  record(s: StartedJob): VideoJobRow {
    const c = s.candidate;
    // resolveKey's precedence: an explicit client key wins; the bearer only when nothing is configured.
    const clientKey = s.keys.providerKey !== undefined || (!c.provider.api_key && !c.rotationKey && s.keys.bearer !== undefined);
    const now = Date.now();
    const row: VideoJobRow = {
      id: newVideoJobId(),
      provider_id: c.providerId,
      model: c.model,
      requested_model: s.requestedModel,
      rotation_id: s.rotationId ?? null,
      client_key: clientKey ? 1 : 0,
      upstream_id: s.job.id,
      status: 'queued',
      progress: 0,
      prompt: null,
      seconds: null,
      size: null,
      created_at: Math.floor(now / 1000),
      completed_at: null,
      expires_at: null,
      error_code: null,
      error_message: null,
      polled_at: now,
      poll_error: null,
    };
    Object.assign(row, fromUpstream(row, s.job, now));
    row.prompt = typeof s.job.prompt === 'string' ? s.job.prompt : (s.prompt ?? null);
    if (typeof s.job.created_at === 'number') row.created_at = s.job.created_at;
    this.store.insert(row);
    return row;
  }

  get(id: string): VideoJobRow {
    const row = /^video_[0-9a-f]{32}$/.test(id) ? this.store.get(id) : undefined;
    if (!row) throw new HttpError(404, `No video found with id '${id}'.`, { param: 'video_id', code: 'video_not_found' });
    return row;
  }

  /** The job's state for a client GET: refreshed from upstream first when older than one interval. */
  async current(row: VideoJobRow, keys: ClientKeys): Promise<VideoJobRow> {
    if (FINAL_STATUSES.has(row.status) || Date.now() - row.polled_at < this.intervalMs()) return row;
    return this.refresh(row, keys);
  }

  /** Polls one job upstream (coalesced: concurrent refreshes of a job share one call). */
  refresh(row: VideoJobRow, keys: ClientKeys = {}): Promise<VideoJobRow> {
    let p = this.inflight.get(row.id);
    if (!p) {
      p = this.poll(row, keys).finally(() => this.inflight.delete(row.id));
      this.inflight.set(row.id, p);
    }
    return p;
  }

  private async poll(row: VideoJobRow, keys: ClientKeys): Promise<VideoJobRow> {
    const rt = this.opts.runtime();
    const now = () => Date.now();
    const cand = candidateFor(rt, row);
    if (!cand?.adapter.getVideo) {
      return this.write(row, { polled_at: now(), poll_error: `provider '${row.provider_id}' is not configured with a video-capable adapter` });
    }
    try {
      const ctx = this.context(rt, cand, row, keys, this.controller.signal);
      const job = await cand.adapter.getVideo(row.upstream_id, ctx);
      return this.write(row, { ...fromUpstream(row, job, now()), poll_error: null });
    } catch (err) {
      if (this.stopped) return row;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof ProviderError && err.kind === 'not_found') {
        // The upstream no longer knows the job (expired or deleted): it will never finish.
        return this.write(row, { status: 'failed', error_code: 'upstream_job_not_found', error_message: `the upstream no longer has this job: ${message}`, polled_at: now(), poll_error: null });
      }
      this.opts.log.warn({ videoId: row.id, provider: row.provider_id, kind: (err as ProviderError).kind, err: message }, 'video job poll failed');
      return this.write(row, { polled_at: now(), poll_error: message });
    }
  }

  private write(row: VideoJobRow, u: Parameters<VideoJobStore['update']>[1]): VideoJobRow {
    if (this.stopped) return row;
    return this.store.update(row.id, u) ?? row;
  }

  private context(rt: Runtime, cand: Candidate, row: VideoJobRow, keys: ClientKeys, signal: AbortSignal): CallContext {
    // A job started with the client's own key can only be polled with it; others use the config's keys.
    const apiKey = resolveKey(cand, row.client_key ? keys : {}, rt.config.missingKeyEnv);
    return { model: row.model, apiKey, signal, timeoutMs: rt.timeoutMs(cand), log: this.opts.log };
  }

  /** Opens the finished video's bytes upstream (streamed by the caller). */
  async content(row: VideoJobRow, keys: ClientKeys, signal: AbortSignal, variant?: VideoContentVariant): Promise<Response> {
    if (row.status !== 'completed') {
      const state = row.status === 'failed' ? `failed${row.error_message ? ` (${row.error_message})` : ''}` : `${row.status}, ${row.progress}% done`;
      throw new HttpError(400, `Video '${row.id}' is not ready for download: it is ${state}. Poll GET …/videos/${row.id} until its status is 'completed'.`, {
        param: 'video_id',
        code: 'video_not_ready',
      });
    }
    const rt = this.opts.runtime();
    const cand = candidateFor(rt, row);
    if (!cand?.adapter.getVideoContent) {
      throw new HttpError(502, `Provider '${row.provider_id}' that made video '${row.id}' is no longer configured with a video-capable adapter.`, { code: 'provider_unavailable' });
    }
    return cand.adapter.getVideoContent(row.upstream_id, this.context(rt, cand, row, keys, signal), variant ? { variant } : {});
  }
}

/** The job's candidate in the current config, with its rotation entry's key when it came from one. */
function candidateFor(rt: Runtime, row: VideoJobRow): Candidate | undefined {
  const base = rt.candidate(row.provider_id, row.model);
  if (!base) return undefined;
  const rotationKey = row.rotation_id ? rt.config.rotations.rotations[row.rotation_id]?.providers.find((p) => p.provider_id === row.provider_id)?.api_key : undefined;
  return rotationKey ? { ...base, rotationKey } : base;
}

/** The stored fields an upstream job object updates. */
function fromUpstream(row: VideoJobRow, job: VideoJob, now: number): Partial<VideoJobRow> & { polled_at: number } {
  const status: VideoStatus = STATUSES.has(job.status) ? job.status : row.status;
  const progress = typeof job.progress === 'number' ? Math.max(0, Math.min(100, Math.round(job.progress))) : status === 'completed' ? 100 : row.progress;
  return {
    status,
    progress,
    seconds: job.seconds != null ? String(job.seconds) : row.seconds,
    size: typeof job.size === 'string' ? job.size : row.size,
    completed_at: typeof job.completed_at === 'number' ? job.completed_at : status === 'completed' ? (row.completed_at ?? Math.floor(now / 1000)) : row.completed_at,
    expires_at: typeof job.expires_at === 'number' ? job.expires_at : row.expires_at,
    error_code: job.error ? String(job.error.code ?? 'video_failed') : row.error_code,
    error_message: job.error ? String(job.error.message ?? '') : row.error_message,
    polled_at: now,
  };
}

export function videoView(row: VideoJobRow): VideoView {
  return {
    id: row.id,
    object: 'video',
    model: row.requested_model,
    status: row.status,
    progress: row.progress,
    created_at: row.created_at,
    completed_at: row.completed_at,
    expires_at: row.expires_at,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    prompt: row.prompt,
    seconds: row.seconds,
    size: row.size,
    remixed_from_video_id: null,
  };
}
