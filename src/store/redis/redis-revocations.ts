/**
 * @module Revoked keys across instances. Keys live in each instance's SQLite; an operator puts the
 * same key on every instance (`aisbf key create --key VALUE`). A revocation on one instance (CLI or
 * `DELETE /admin/keys/{id}`) adds the key's SHA-256 to a Redis set and is published; every instance
 * keeps the set in memory (loaded on each connection, kept fresh by pub/sub) and refuses those keys.
 * Revocations made while Redis was away are sent when it is back.
 */
import type { RedisLink } from './redis-link.js';

const CHANNEL = 'revoked';

export class RedisRevocations {
  private readonly hashes = new Set<string>();
  private readonly unsent = new Set<string>();

  constructor(
    private readonly link: RedisLink,
    /** Receives the whole set whenever it grew. */
    private readonly apply: (hashes: ReadonlySet<string>) => void,
  ) {
    link.subscribe(CHANNEL, (msg) => {
      if (Array.isArray(msg.hashes)) this.merge(msg.hashes.filter((h): h is string => typeof h === 'string'));
    });
    link.onUp(() => {
      const key = link.key(CHANNEL);
      const fresh = [...this.unsent];
      this.unsent.clear();
      for (const h of fresh) this.hashes.add(h);
      // Everything known goes back (a restarted Redis starts empty); then what others know comes in.
      const all = [...this.hashes];
      if (all.length) link.fire((c) => c.sadd(key, ...all));
      if (fresh.length) link.publish(CHANNEL, { hashes: fresh });
      void link.run((c) => c.smembers(key), () => [] as string[]).then((got) => this.merge(got));
    });
  }

  /** Keys this instance found revoked (its auth cache reloaded): shared with every instance. */
  announce(keyHashes: readonly string[]): void {
    for (const h of keyHashes) this.unsent.add(h);
    if (!this.link.available) return;
    const send = [...this.unsent];
    this.unsent.clear();
    for (const h of send) this.hashes.add(h);
    this.link.fire((c) => c.sadd(this.link.key(CHANNEL), ...send));
    this.link.publish(CHANNEL, { hashes: send });
  }

  private merge(list: readonly string[]): void {
    let grew = false;
    for (const h of list) if (!this.hashes.has(h)) this.hashes.add(h), (grew = true);
    if (grew) this.apply(this.hashes);
  }
}
