/**
 * @module The shapes of persisted routing state (health and rate-limit records) and the store
 * interface that keeps them: defined here, at the bottom, so the store implements them without
 * importing routing; routing/health.ts re-exports them.
 */

export interface HealthRecord {
  /** `provider/model` (Candidate.key). */
  key: string;
  /** Consecutive failures since the last success. */
  failures: number;
  /** ms since epoch; 0 when not cooling. */
  cooldownUntil: number;
  /** Cooled down since the last success: one more failure cools it again (half-open). */
  tripped: boolean;
  lastFailureAt: number;
  /** What the last failure said, already scrubbed of credentials. */
  lastError: string | null;
}

/** Token-window and call-spacing state of one rate-limit key (see rate-limits.ts). */
export interface LimitRecord {
  key: string;
  /** ms since epoch of the last call started; 0 if none. */
  lastCallAt: number;
  /** [second (ms since epoch, floored to 1 s), tokens] buckets, oldest first. */
  tokens: Array<[number, number]>;
}

/** Where health and rate-limit state survive restarts (SQLite by default: store/health-state.ts). */
export interface RoutingStateStore {
  load(): { health: HealthRecord[]; limits: LimitRecord[] };
  /** Upserts the given records (the ones changed since the last save). */
  save(health: readonly HealthRecord[], limits: readonly LimitRecord[]): void;
}
