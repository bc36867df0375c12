/**
 * @module Video generation jobs in SQLite: our own id (`video_<random>`), which provider/model runs it,
 * the upstream's job id (never shown to clients), and the last state seen upstream. Rows outlive a
 * restart, so a job started before one can still be polled and downloaded after it.
 */
import { randomBytes } from 'node:crypto';
import { migrate, type Db, type Migration } from './db.js';

export const JOB_MIGRATIONS: readonly Migration[] = [
  {
    id: 'jobs-001-video-jobs',
    sql: `CREATE TABLE video_jobs (
      id TEXT PRIMARY KEY,
      provider_id TEXT NOT NULL,
      model TEXT NOT NULL,
      requested_model TEXT NOT NULL,
      rotation_id TEXT,
      client_key INTEGER NOT NULL DEFAULT 0,
      upstream_id TEXT NOT NULL,
      status TEXT NOT NULL,
      progress INTEGER NOT NULL DEFAULT 0,
      prompt TEXT,
      seconds TEXT,
      size TEXT,
      created_at INTEGER NOT NULL,
      completed_at INTEGER,
      expires_at INTEGER,
      error_code TEXT,
      error_message TEXT,
      polled_at INTEGER NOT NULL,
      poll_error TEXT
    );
    CREATE INDEX video_jobs_active ON video_jobs (status) WHERE status IN ('queued', 'in_progress');`,
  },
];

export type VideoStatus = 'queued' | 'in_progress' | 'completed' | 'failed';

export interface VideoJobRow {
  id: string;
  provider_id: string;
  /** The upstream model name. */
  model: string;
  /** The `model` the client sent (`openai/sora-2`, a rotation id …), shown back to it. */
  requested_model: string;
  /** The rotation whose entry supplied the candidate (its key may be the one to poll with). */
  rotation_id: string | null;
  /** 1 when the job was started with a key the client brought: only that client's requests can poll it. */
  client_key: number;
  upstream_id: string;
  status: VideoStatus;
  progress: number;
  prompt: string | null;
  seconds: string | null;
  size: string | null;
  /** Unix seconds. */
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  error_code: string | null;
  error_message: string | null;
  /** ms since epoch of the last upstream poll (or of creation). */
  polled_at: number;
  /** The last poll's failure, kept for logs and status; the job itself is unchanged by it. */
  poll_error: string | null;
}

export type VideoJobUpdate = Partial<Pick<VideoJobRow, 'status' | 'progress' | 'seconds' | 'size' | 'completed_at' | 'expires_at' | 'error_code' | 'error_message' | 'poll_error'>> & { polled_at: number };

export const FINAL_STATUSES: ReadonlySet<VideoStatus> = new Set(['completed', 'failed']);

export function newVideoJobId(): string {
  return `video_${randomBytes(16).toString('hex')}`;
}

/** Prepared statements over the video_jobs table, built once per database. */
export class VideoJobStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly activeStmt;
  private readonly updateStmt;

  constructor(private readonly db: Db) {
    migrate(db, JOB_MIGRATIONS);
    this.insertStmt = db.prepare(
      `INSERT INTO video_jobs (id, provider_id, model, requested_model, rotation_id, client_key, upstream_id, status, progress, prompt, seconds, size,
        created_at, completed_at, expires_at, error_code, error_message, polled_at, poll_error)
       VALUES (@id, @provider_id, @model, @requested_model, @rotation_id, @client_key, @upstream_id, @status, @progress, @prompt, @seconds, @size,
        @created_at, @completed_at, @expires_at, @error_code, @error_message, @polled_at, @poll_error)`,
    );
    this.getStmt = db.prepare('SELECT * FROM video_jobs WHERE id = ?');
    this.updateStmt = db.prepare(
      `UPDATE video_jobs SET status = @status, progress = @progress, seconds = @seconds, size = @size, completed_at = @completed_at,
        expires_at = @expires_at, error_code = @error_code, error_message = @error_message, polled_at = @polled_at, poll_error = @poll_error
       WHERE id = @id`,
    );
    this.activeStmt = db.prepare("SELECT * FROM video_jobs WHERE status IN ('queued', 'in_progress') ORDER BY polled_at LIMIT ?");
  }

  insert(row: VideoJobRow): void {
    this.insertStmt.run(row);
  }

  get(id: string): VideoJobRow | undefined {
    return this.getStmt.get(id) as VideoJobRow | undefined;
  }

  /** Unfinished jobs, least recently polled first. */
  active(limit = 100): VideoJobRow[] {
    return this.activeStmt.all(limit) as VideoJobRow[];
  }

  /** Merges `u` into the stored row; returns the new row (undefined if the job is gone). */
  update(id: string, u: VideoJobUpdate): VideoJobRow | undefined {
    const row = this.get(id);
    if (!row) return undefined;
    const next: VideoJobRow = { ...row };
    for (const [k, v] of Object.entries(u)) if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
    this.updateStmt.run(next);
    return next;
  }
}
