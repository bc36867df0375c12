/**
 * @module Stopped models (`POST /admin/models/{id}/stop|start`): the pipeline's ModelGate. An id is a
 * provider id (every model of it) or `provider/model`. Kept in memory for the hot path, persisted in
 * SQLite, and re-read every few seconds so the workers of a cluster agree.
 */
import type { ModelGate } from '../pipeline/stages.js';
import type { ModelStateStore } from '../store/model-state.js';
import { splitModelRef } from '../config/model-ref.js';

export class StoppedModels implements ModelGate {
  private stopped: Map<string, number>;
  private timer: NodeJS.Timeout | undefined;
  /** Told of every stop and start made here (storage.redis shares them with other instances). */
  onChange: ((id: string, stopped: boolean, at: number) => void) | undefined;

  constructor(
    private readonly store: ModelStateStore,
    private readonly clock: () => number = Date.now,
  ) {
    this.stopped = store.load();
  }

  /** Nothing stopped: the attempt loop skips the check (one branch). */
  get inactive(): boolean {
    return this.stopped.size === 0;
  }

  isStopped(candidateKey: string): boolean {
    if (this.stopped.size === 0) return false;
    if (this.stopped.has(candidateKey)) return true;
    const ref = splitModelRef(candidateKey);
    return ref !== undefined && this.stopped.has(ref.providerId);
  }

  /** ms since epoch when `id` (exactly as stopped) was stopped. */
  stoppedAt(id: string): number | undefined {
    return this.stopped.get(id);
  }

  stop(id: string): void {
    const at = this.clock();
    this.store.stop(id, at);
    if (!this.stopped.has(id)) this.stopped.set(id, at);
    this.onChange?.(id, true, this.stopped.get(id)!);
  }

  start(id: string): void {
    this.store.start(id);
    this.stopped.delete(id);
    this.onChange?.(id, false, this.clock());
  }

  /** A stop or start made on another instance: applied and persisted here, not announced again. */
  applyRemote(id: string, stopped: boolean, at: number): void {
    try {
      if (stopped) this.store.stop(id, at);
      else this.store.start(id);
    } catch {
      // A busy database: memory holds it; the next remote change or resync writes it.
    }
    if (!stopped) this.stopped.delete(id);
    else if (!this.stopped.has(id)) this.stopped.set(id, at);
  }

  /** Every stopped id → ms since epoch when it was stopped. */
  entries(): ReadonlyMap<string, number> {
    return this.stopped;
  }

  /** Picks up stops and starts made by other processes sharing the database. */
  startRefresh(intervalMs = 5000): void {
    this.timer ??= setInterval(() => {
      try {
        this.stopped = this.store.load();
      } catch {
        // A busy database: keep the last known set, try again next tick.
      }
    }, intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
