/**
 * @module Stopped models across instances: a Redis hash (id → when) that `POST /admin/models/{id}/stop`
 * on any instance writes and publishes; every instance applies it to its in-memory gate (and its
 * SQLite, so a stop survives a restart without Redis). On every connection the hash is read, and
 * stops this instance holds that Redis lacks (made while it was away, or Redis restarted empty)
 * are written back.
 */
import type { RedisLink } from './redis-link.js';

const CHANNEL = 'stopped';

/** The part of the model gate this module drives (accounting/model-gate.ts). */
export interface SharedModelGate {
  onChange: ((id: string, stopped: boolean, at: number) => void) | undefined;
  applyRemote(id: string, stopped: boolean, at: number): void;
  entries(): ReadonlyMap<string, number>;
}

export function shareStoppedModels(link: RedisLink, gate: SharedModelGate): void {
  const key = link.key(CHANNEL);
  gate.onChange = (id, stopped, at) => {
    link.fire((c) => (stopped ? c.hset(key, id, String(at)) : c.hdel(key, id)));
    link.publish(CHANNEL, { id, stopped, at });
  };
  link.subscribe(CHANNEL, (msg) => {
    if (typeof msg.id === 'string' && typeof msg.stopped === 'boolean') gate.applyRemote(msg.id, msg.stopped, Number(msg.at) || Date.now());
  });
  link.onUp(() => {
    void link
      .run((c) => c.hgetall(key), () => undefined)
      .then((remote) => {
        if (!remote) return;
        for (const [id, at] of Object.entries(remote)) gate.applyRemote(id, true, Number(at) || Date.now());
        const missing = [...gate.entries()].filter(([id]) => !(id in remote));
        if (missing.length) link.fire((c) => c.hset(key, Object.fromEntries(missing.map(([id, at]) => [id, String(at)]))));
      });
  });
}
