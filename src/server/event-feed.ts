/**
 * @module The live request feed behind `GET /admin/events` (the dashboard): each settled request is
 * serialised once and fanned out to at most MAX_CLIENTS server-sent-event streams. Every stream has a
 * bounded queue; a reader that falls behind loses events (counted, and told with an `event: dropped`
 * message) instead of growing the daemon's memory. Events reach sockets in batches (FEED_FLUSH_MS).
 * Nothing is subscribed while no stream is open.
 */
import type { UsageRow } from '../store/usage.js';

/** Events a stream may have waiting before new ones are dropped for it. */
export const FEED_QUEUE_LIMIT = 256;
/** Open streams at most; one more is refused (a dashboard tab holds one). */
export const FEED_MAX_CLIENTS = 8;
/**
 * Requests are handed to readers at most this often, many per socket write: the feed's cost then
 * follows the number of readers, not the request rate (people read a table a few times a second).
 */
export const FEED_FLUSH_MS = 250;
/** A comment line every so often keeps proxies from closing an idle stream and finds dead sockets. */
const HEARTBEAT_MS = 15_000;
/** A reader whose queue stayed full this long is gone in all but name: its stream is ended, freeing the slot. */
export const FEED_STUCK_MS = 60_000;

const encoder = new TextEncoder();
const PING = encoder.encode(': ping\n\n');

/** What one feed event says about a request: the usage row's public fields (never a credential). */
export function feedEvent(r: UsageRow): Record<string, unknown> {
  return {
    time: new Date(r.ts).toISOString(),
    request_id: r.request_id,
    client_id: r.client_id,
    key_id: r.key_id,
    user: r.user,
    route: r.route,
    target: r.target,
    provider: r.provider,
    model: r.model,
    status: r.status,
    error_code: r.error_code,
    attempts: r.attempts,
    failovers: r.failovers,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    cached_tokens: r.cached_tokens,
    cost_usd: r.cost_usd,
    latency_ms: r.latency_ms,
    ttft_ms: r.ttft_ms,
    stream: r.stream === 1,
    cache_hit: r.cache_hit === 1,
    aborted: r.aborted === 1,
  };
}

export interface FeedStats {
  clients: number;
  max_clients: number;
  queue_limit: number;
  /** Events written into streams' queues since start. */
  queued: number;
  /** Events dropped because a reader was behind, since start. */
  dropped: number;
}

class FeedStream {
  readonly queue: Uint8Array[] = [];
  /** Dropped since this stream was last told. */
  unreported = 0;
  /** Queued chunks older than the first unreported drop: the notice goes out after them. */
  private beforeGap = 0;
  /** Set while the reader waits for the next chunk. */
  wake: (() => void) | undefined;
  /** When the queue last became full (0 while it is not). */
  fullSince = 0;
  controller: ReadableStreamDefaultController<Uint8Array> | undefined;

  constructor(
    private readonly feed: EventFeed,
    /** Drops the connection of a reader that stopped reading (the route passes socket.destroy). */
    readonly evict: () => void,
  ) {}

  /**
   * False when the queue is full (the chunk is dropped; counted when `droppable`). Requests are
   * handed to a waiting reader by the feed's flush; control messages (hello, ping) at once.
   */
  push(chunk: Uint8Array, droppable: boolean): boolean {
    if (this.queue.length >= FEED_QUEUE_LIMIT) {
      if (!this.fullSince) this.fullSince = Date.now();
      if (droppable) {
        if (this.unreported++ === 0) this.beforeGap = this.queue.length;
        this.feed.countDrop();
      }
      return false;
    }
    this.queue.push(chunk);
    if (!droppable) this.flush();
    return true;
  }

  flush(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Everything queued as one chunk (one socket write), the drop notice where the gap is. */
  next(): Uint8Array | undefined {
    this.fullSince = 0;
    if (!this.queue.length && !this.unreported) return undefined;
    const parts = this.queue.splice(0);
    if (this.unreported > 0) {
      parts.splice(Math.min(this.beforeGap, parts.length), 0, encoder.encode(`event: dropped\ndata: {"dropped":${this.unreported}}\n\n`));
      this.unreported = 0;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}

export class EventFeed {
  private readonly streams = new Set<FeedStream>();
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private queued = 0;
  private dropped = 0;

  /** `subscribe` is the accounting stage's: called when the first stream opens, undone after the last. */
  constructor(private readonly subscribe: (fn: (row: UsageRow) => void) => () => void) {}

  stats(): FeedStats {
    return { clients: this.streams.size, max_clients: FEED_MAX_CLIENTS, queue_limit: FEED_QUEUE_LIMIT, queued: this.queued, dropped: this.dropped };
  }

  countDrop(): void {
    this.dropped++;
  }

  /** A new SSE body, or undefined when FEED_MAX_CLIENTS streams are already open; `evict` drops its connection. */
  open(evict: () => void = () => {}): ReadableStream<Uint8Array> | undefined {
    if (this.streams.size >= FEED_MAX_CLIENTS) return undefined;
    const s = new FeedStream(this, evict);
    this.streams.add(s);
    this.start();
    s.push(encoder.encode(`retry: 3000\nevent: hello\ndata: ${JSON.stringify({ queue_limit: FEED_QUEUE_LIMIT })}\n\n`), false);
    // highWaterMark 0: a chunk is taken only when the socket asks for one, so a slow reader leaves
    // its events in the bounded queue above rather than in the stream or the socket's buffer.
    // Each pull takes everything queued: one write per flush, however many requests settled.
    return new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          s.controller = controller;
        },
        pull: (controller) => {
          const chunk = s.next();
          if (chunk) {
            controller.enqueue(chunk);
            return;
          }
          return new Promise<void>((resolve) => {
            s.wake = () => {
              const c = s.next();
              if (c) controller.enqueue(c);
              resolve();
            };
          });
        },
        cancel: () => this.close(s),
      },
      { highWaterMark: 0 },
    );
  }

  private start(): void {
    if (!this.unsubscribe) this.unsubscribe = this.subscribe((row) => this.publish(row));
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.beat(Date.now()), HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  /** Pings every stream; ends the ones whose reader has not taken anything for FEED_STUCK_MS. */
  beat(now: number): void {
    for (const s of [...this.streams]) {
      if (s.fullSince && now - s.fullSince >= FEED_STUCK_MS) {
        // Its socket is not draining, so ending the body would never reach it: drop the connection
        // (the server then cancels the body). Not an error: nothing is logged.
        const controller = s.controller;
        this.close(s);
        try {
          controller?.close();
        } catch {
          // already closed or cancelled
        }
        s.evict();
      } else s.push(PING, false);
    }
  }

  private publish(row: UsageRow): void {
    // Serialised once for every stream.
    const chunk = encoder.encode(`id: ${++this.seq}\ndata: ${JSON.stringify(feedEvent(row))}\n\n`);
    for (const s of this.streams) {
      if (s.push(chunk, true)) this.queued++;
    }
    if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => this.flush(), FEED_FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  /** Hands what is queued to every reader waiting for it (the timer calls it; tests may too). */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const s of this.streams) s.flush();
  }

  /** Ends every open feed (the server is closing): a live feed must not hold shutdown for its grace period. */
  endAll(): void {
    for (const s of [...this.streams]) {
      const controller = s.controller;
      this.close(s);
      try {
        controller?.close();
      } catch {
        // already closed or cancelled
      }
    }
  }

  private close(s: FeedStream): void {
    this.streams.delete(s);
    s.queue.length = 0;
    s.wake = undefined;
    s.controller = undefined;
    if (this.streams.size) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}
