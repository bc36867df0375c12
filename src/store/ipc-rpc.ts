/**
 * @module Calls from a cluster worker to its primary over node's IPC channel (`process.send`): a
 * call carries an id and waits for the reply with that id; a cast is fire-and-forget. One channel,
 * so messages arrive in the order they were sent: a cast (say, releasing a slot) is applied before
 * any later call of the same worker. The primary answers in `server/cluster-state.ts`.
 */

/** worker → primary */
export type IpcCall = { aisbf: 'call'; id: number; op: string; args: unknown[] };
export type IpcCast = { aisbf: 'cast'; op: string; args: unknown[] };
/** primary → worker */
export type IpcReply = { aisbf: 'reply'; id: number; value?: unknown; error?: IpcError };

/** An error as data (no stack): what the worker rebuilds and throws. */
export interface IpcError {
  message: string;
  status?: number;
  code?: string;
  type?: string;
  headers?: Record<string, string>;
  /** The waiter's client went away. */
  gone?: boolean;
}

export class IpcCallError extends Error {
  constructor(readonly detail: IpcError) {
    super(detail.message);
    this.name = 'IpcCallError';
  }
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  timer?: NodeJS.Timeout;
}

/** A call the primary did not answer in this time fails (a primary that hangs must not hang requests). */
const CALL_TIMEOUT_MS = 10_000;

export class IpcClient {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly onMessage = (msg: IpcReply) => {
    if (msg?.aisbf !== 'reply') return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (p.timer) clearTimeout(p.timer);
    if (msg.error) p.reject(new IpcCallError(msg.error));
    else p.resolve(msg.value);
  };

  constructor(private readonly channel: NodeJS.Process = process) {
    channel.on('message', this.onMessage);
  }

  /** The id the next call will get (so a caller can cancel it with a cast). */
  nextId(): number {
    return this.seq + 1;
  }

  /** `untimed`: a call that may wait long by design (a queue slot has its own timeout at the primary). */
  call<T>(op: string, args: unknown[], untimed = false): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      if (!this.channel.connected || !this.channel.send) return reject(new IpcCallError({ message: 'the cluster primary is gone' }));
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject };
      if (!untimed) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new IpcCallError({ message: `the cluster primary did not answer ${op} within ${CALL_TIMEOUT_MS / 1000} s` }));
        }, CALL_TIMEOUT_MS);
        p.timer.unref();
      }
      this.pending.set(id, p);
      this.channel.send({ aisbf: 'call', id, op, args } satisfies IpcCall);
    });
  }

  cast(op: string, args: unknown[]): void {
    if (this.channel.connected) this.channel.send?.({ aisbf: 'cast', op, args } satisfies IpcCast);
  }

  close(): void {
    this.channel.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new IpcCallError({ message: 'closing' }));
    }
    this.pending.clear();
  }
}
