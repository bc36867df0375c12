/**
 * @module The glasses app's activity log (Frame-Backend's `activity_logs`): one row per `/process`,
 * naming the stored image file, the answers, the time taken and the row's size in bytes (image plus
 * text), which the cleanup uses to keep a profile under its byte budget. Times are ms since epoch (UTC).
 */
import { migrate, type Db, type Migration } from './db.js';

export const ACTIVITY_MIGRATIONS: readonly Migration[] = [
  {
    id: 'glasses-activity-001-create',
    sql: `CREATE TABLE glasses_activity (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL,
      ip TEXT NOT NULL,
      request_type TEXT NOT NULL,
      image_file TEXT,
      image_bytes INTEGER NOT NULL DEFAULT 0,
      prompt TEXT,
      ai_responses TEXT NOT NULL DEFAULT '{}',
      final_answer TEXT,
      errors TEXT NOT NULL DEFAULT '[]',
      size_bytes INTEGER NOT NULL DEFAULT 0,
      created_at INTEGER NOT NULL,
      processing_time REAL
    );
    CREATE INDEX glasses_activity_user_time ON glasses_activity (username, created_at);
    CREATE INDEX glasses_activity_time ON glasses_activity (created_at);`,
  },
];

export interface NewActivity {
  username: string;
  ip: string;
  requestType: string;
  /** A name we generated, inside the images dir; null when no image was kept. */
  imageFile: string | null;
  imageBytes: number;
  prompt: string;
  aiResponses: Record<string, string>;
  finalAnswer: string;
  errors: string[];
  processingTime: number;
  createdAt: number;
}

export interface ActivityRecord extends NewActivity {
  id: number;
  sizeBytes: number;
}

interface Row {
  id: number;
  username: string;
  ip: string;
  request_type: string;
  image_file: string | null;
  image_bytes: number;
  prompt: string | null;
  ai_responses: string;
  final_answer: string | null;
  errors: string;
  size_bytes: number;
  created_at: number;
  processing_time: number | null;
}

function parse<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toRecord(r: Row): ActivityRecord {
  return {
    id: r.id,
    username: r.username,
    ip: r.ip,
    requestType: r.request_type,
    imageFile: r.image_file,
    imageBytes: r.image_bytes,
    prompt: r.prompt ?? '',
    aiResponses: parse(r.ai_responses, {}),
    finalAnswer: r.final_answer ?? '',
    errors: parse(r.errors, []),
    sizeBytes: r.size_bytes,
    createdAt: r.created_at,
    processingTime: r.processing_time ?? 0,
  };
}

export interface ActivityTotals {
  requests: number;
  bytes: number;
  first: number | null;
  last: number | null;
}

/** Rows deleted, and the image files they pointed to (for the caller to unlink). */
export interface Deleted {
  rows: number;
  imageFiles: string[];
}

export class ActivityStore {
  private readonly ins;
  private readonly recentFor;
  private readonly totalsFor;
  private readonly filesBefore;
  private readonly delBefore;
  private readonly overBudget;
  private readonly oldestFor;
  private readonly delId;
  private readonly filesFor;
  private readonly delFor;

  constructor(private readonly db: Db) {
    migrate(db, ACTIVITY_MIGRATIONS);
    this.ins = db.prepare(
      `INSERT INTO glasses_activity (username, ip, request_type, image_file, image_bytes, prompt, ai_responses, final_answer, errors, size_bytes, created_at, processing_time)
       VALUES (@username, @ip, @requestType, @imageFile, @imageBytes, @prompt, @aiResponses, @finalAnswer, @errors, @sizeBytes, @createdAt, @processingTime)`,
    );
    this.recentFor = db.prepare<[string, number], Row>('SELECT * FROM glasses_activity WHERE username = ? ORDER BY created_at DESC, id DESC LIMIT ?');
    this.totalsFor = db.prepare<[string], { requests: number; bytes: number | null; first: number | null; last: number | null }>(
      'SELECT COUNT(*) AS requests, SUM(size_bytes) AS bytes, MIN(created_at) AS first, MAX(created_at) AS last FROM glasses_activity WHERE username = ?',
    );
    this.filesBefore = db.prepare<[number], { image_file: string | null }>('SELECT image_file FROM glasses_activity WHERE created_at < ?');
    this.delBefore = db.prepare<[number]>('DELETE FROM glasses_activity WHERE created_at < ?');
    this.overBudget = db.prepare<[number], { username: string; bytes: number }>(
      'SELECT username, SUM(size_bytes) AS bytes FROM glasses_activity GROUP BY username HAVING SUM(size_bytes) > ?',
    );
    this.oldestFor = db.prepare<[string], { id: number; size_bytes: number; image_file: string | null }>(
      'SELECT id, size_bytes, image_file FROM glasses_activity WHERE username = ? ORDER BY created_at ASC, id ASC',
    );
    this.delId = db.prepare<[number]>('DELETE FROM glasses_activity WHERE id = ?');
    this.filesFor = db.prepare<[string], { image_file: string | null }>('SELECT image_file FROM glasses_activity WHERE username = ?');
    this.delFor = db.prepare<[string]>('DELETE FROM glasses_activity WHERE username = ?');
  }

  insert(a: NewActivity): number {
    const aiResponses = JSON.stringify(a.aiResponses);
    const errors = JSON.stringify(a.errors);
    const sizeBytes = a.imageBytes + Buffer.byteLength(aiResponses) + Buffer.byteLength(a.finalAnswer) + Buffer.byteLength(a.prompt) + Buffer.byteLength(errors);
    const r = this.ins.run({ ...a, aiResponses, errors, sizeBytes });
    return Number(r.lastInsertRowid);
  }

  recent(username: string, limit = 10): ActivityRecord[] {
    return this.recentFor.all(username, limit).map(toRecord);
  }

  totals(username: string): ActivityTotals {
    const t = this.totalsFor.get(username)!;
    return { requests: t.requests, bytes: t.bytes ?? 0, first: t.first, last: t.last };
  }

  /** Deletes every row created before `cutoff` (ms since epoch). */
  deleteOlderThan(cutoff: number): Deleted {
    return this.db.transaction(() => {
      const imageFiles = this.filesBefore.all(cutoff).flatMap((r) => (r.image_file ? [r.image_file] : []));
      const rows = this.delBefore.run(cutoff).changes;
      return { rows, imageFiles };
    }).immediate();
  }

  /** For each profile over `maxBytes`, deletes its oldest rows until it is within the budget. */
  trimToBudget(maxBytes: number): Deleted {
    return this.db.transaction(() => {
      const out: Deleted = { rows: 0, imageFiles: [] };
      for (const { username, bytes } of this.overBudget.all(maxBytes)) {
        let left = bytes;
        for (const row of this.oldestFor.all(username)) {
          if (left <= maxBytes) break;
          this.delId.run(row.id);
          left -= row.size_bytes;
          out.rows++;
          if (row.image_file) out.imageFiles.push(row.image_file);
        }
      }
      return out;
    }).immediate();
  }

  deleteForProfile(username: string): Deleted {
    return this.db.transaction(() => {
      const imageFiles = this.filesFor.all(username).flatMap((r) => (r.image_file ? [r.image_file] : []));
      const rows = this.delFor.run(username).changes;
      return { rows, imageFiles };
    }).immediate();
  }
}
