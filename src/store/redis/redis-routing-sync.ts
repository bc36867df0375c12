/**
 * @module Health (failure counts, cooldowns) and provider rate-limit state (call spacing, TPM/TPH/TPD
 * token windows) shared between instances. The attempt loop keeps reading its local copy — no Redis
 * on the request path; each change is sent after the request's tick (one pipeline per tick: the
 * record into a Redis hash, and one pub/sub message) and applied by every other instance within
 * milliseconds. On every connection the hashes are read in, and what this instance learnt while
 * Redis was away (or Redis lost on a restart) is written back, the later cooldown winning.
 */
import type { HealthRecord, LimitRecord } from '../routing-records.js';
import type { RedisLink } from './redis-link.js';

export type SharedRoutingChange = { kind: 'health'; record: HealthRecord } | { kind: 'limit'; record: LimitRecord };

/** The part of routing/routing-state.ts this module drives. */
export interface SharedRouting {
  addReplica(fn: (change: SharedRoutingChange) => void): void;
  applyRemote(change: SharedRoutingChange): void;
  readonly health: { all(): Iterable<HealthRecord>; get(key: string): HealthRecord | undefined };
  readonly limits: { all(): Iterable<LimitRecord>; get(key: string): LimitRecord | undefined };
}

const CHANNEL = 'routing';

export function shareRoutingState(link: RedisLink, routing: SharedRouting): void {
  const healthKey = link.key('routing:health');
  const limitKey = link.key('routing:limits');
  let pending = new Map<string, SharedRoutingChange>();
  let scheduled = false;

  const send = (changes: SharedRoutingChange[]) => {
    if (!changes.length) return;
    link.fire((c) => {
      const p = c.pipeline();
      for (const ch of changes) p.hset(ch.kind === 'health' ? healthKey : limitKey, ch.record.key, JSON.stringify(ch.record));
      p.publish(link.key(CHANNEL), JSON.stringify({ from: link.instanceId, changes }));
      return p.exec();
    });
  };
  const flush = () => {
    scheduled = false;
    const batch = [...pending.values()];
    pending = new Map();
    send(batch);
  };

  routing.addReplica((change) => {
    if (!link.available) return; // sent on reconnection (see onUp)
    // Records are mutated in place by later changes: send a copy of what it is now.
    pending.set(`${change.kind}\n${change.record.key}`, { kind: change.kind, record: structuredClone(change.record) } as SharedRoutingChange);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });

  link.subscribe(CHANNEL, (msg) => {
    if (!Array.isArray(msg.changes)) return;
    for (const ch of msg.changes as SharedRoutingChange[]) {
      if ((ch?.kind === 'health' || ch?.kind === 'limit') && typeof ch.record?.key === 'string') routing.applyRemote(ch);
    }
  });

  link.onUp(() => {
    void link
      .run(
        (c) => Promise.all([c.hgetall(healthKey), c.hgetall(limitKey)]),
        () => undefined,
      )
      .then((got) => {
        if (!got) return;
        const [health, limits] = got;
        const push: SharedRoutingChange[] = [];
        for (const text of Object.values(health)) {
          const remote = parse<HealthRecord>(text);
          if (!remote) continue;
          const local = routing.health.get(remote.key);
          if (local && local.cooldownUntil > remote.cooldownUntil) continue;
          routing.applyRemote({ kind: 'health', record: remote });
        }
        for (const text of Object.values(limits)) {
          const remote = parse<LimitRecord>(text);
          if (!remote) continue;
          const local = routing.limits.get(remote.key);
          if (local && local.lastCallAt > remote.lastCallAt) continue;
          routing.applyRemote({ kind: 'limit', record: remote });
        }
        const now = Date.now();
        for (const r of routing.health.all()) {
          const remote = health[r.key] ? parse<HealthRecord>(health[r.key]!) : undefined;
          if (r.cooldownUntil > now && (!remote || remote.cooldownUntil < r.cooldownUntil)) push.push({ kind: 'health', record: structuredClone(r) });
        }
        for (const r of routing.limits.all()) {
          const remote = limits[r.key] ? parse<LimitRecord>(limits[r.key]!) : undefined;
          if (!remote || remote.lastCallAt < r.lastCallAt) push.push({ kind: 'limit', record: structuredClone(r) });
        }
        send(push);
      });
  });
}

function parse<T>(text: string): T | undefined {
  try {
    const v = JSON.parse(text) as T & { key?: unknown };
    return typeof v?.key === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
