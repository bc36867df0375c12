import { describe, expect, it } from 'vitest';
import { EventFeed, FEED_QUEUE_LIMIT, FEED_STUCK_MS } from '../../src/server/event-feed.js';
import type { UsageRow } from '../../src/store/usage.js';

function row(i: number): UsageRow {
  return {
    ts: 1_700_000_000_000 + i, request_id: `req-${i}`, parent_id: null, client_id: '127.0.0.1', key_id: null, user: null, route: '/v1/chat/completions',
    target: 'a/m', provider: 'a', model: 'm', attempts: 1, status: 200, error_code: null, prompt_tokens: 3, completion_tokens: 4, cached_tokens: 0,
    reasoning_tokens: 0, cache_write_tokens: 0, effective_context: null, cost_usd: 0.001, latency_ms: 12, ttft_ms: null, stream: 0, cache_hit: 0, aborted: 0, failovers: 0,
  };
}

/** A stand-in for the accounting stage's subscribe: the same contract, driven by the test. */
function source() {
  const listeners = new Set<(r: UsageRow) => void>();
  return {
    subscribe: (fn: (r: UsageRow) => void) => (listeners.add(fn), () => listeners.delete(fn)),
    publish: (r: UsageRow) => listeners.forEach((fn) => fn(r)),
    get count() {
      return listeners.size;
    },
  };
}

const text = (c: Uint8Array | undefined) => new TextDecoder().decode(c);

describe('EventFeed', () => {
  it('keeps at most FEED_QUEUE_LIMIT events for a reader that does not read, counts the rest as dropped, and tells the reader', async () => {
    const src = source();
    const feed = new EventFeed(src.subscribe);
    expect(src.count).toBe(0);
    const stream = feed.open()!;
    expect(src.count).toBe(1);
    const total = FEED_QUEUE_LIMIT * 4;
    for (let i = 0; i < total; i++) src.publish(row(i));
    const stats = feed.stats();
    // The hello event holds one place in the queue.
    expect(stats.queued).toBe(FEED_QUEUE_LIMIT - 1);
    expect(stats.dropped).toBe(total - (FEED_QUEUE_LIMIT - 1));

    const reader = stream.getReader();
    expect(text((await reader.read()).value)).toContain('event: hello');
    const first = text((await reader.read()).value);
    expect(first).toMatch(/^id: 1\ndata: \{/);
    expect(JSON.parse(first.split('data: ')[1]!)).toMatchObject({ request_id: 'req-0', target: 'a/m', status: 200, cost_usd: 0.001, stream: false });
    for (let i = 1; i < FEED_QUEUE_LIMIT - 1; i++) expect(text((await reader.read()).value)).toContain(`"request_id":"req-${i}"`);
    // Where the gap is, the reader is told how many it missed; then the feed goes on.
    expect(text((await reader.read()).value)).toBe(`event: dropped\ndata: {"dropped":${stats.dropped}}\n\n`);
    src.publish(row(total));
    expect(text((await reader.read()).value)).toContain(`"request_id":"req-${total}"`);
    await reader.cancel();
    // The last reader gone: nothing is subscribed, nothing is kept.
    expect(src.count).toBe(0);
    expect(feed.stats().clients).toBe(0);
  });

  it('hands a waiting reader each event as it comes', async () => {
    const src = source();
    const feed = new EventFeed(src.subscribe);
    const reader = feed.open()!.getReader();
    await reader.read(); // hello
    const pending = reader.read();
    src.publish(row(7));
    expect(text((await pending).value)).toContain('"request_id":"req-7"');
    expect(feed.stats()).toMatchObject({ clients: 1, dropped: 0, queued: 1 });
    await reader.cancel();
  });

  it('ends the stream of a reader that stopped reading altogether, freeing its slot', async () => {
    const src = source();
    const feed = new EventFeed(src.subscribe);
    const slow = feed.open()!.getReader();
    const fine = feed.open()!.getReader();
    for (let i = 0; i < FEED_QUEUE_LIMIT + 10; i++) {
      src.publish(row(i));
      await fine.read();
    }
    // Not yet: the slow reader's queue has been full for less than FEED_STUCK_MS.
    feed.beat(Date.now());
    expect(feed.stats().clients).toBe(2);
    feed.beat(Date.now() + FEED_STUCK_MS);
    expect(feed.stats().clients).toBe(1);
    await expect(slow.read()).rejects.toThrow('live feed reader stopped reading');
    // The reader that keeps up is untouched: its last event, then the pings.
    expect(text((await fine.read()).value)).toContain(`"request_id":"req-${FEED_QUEUE_LIMIT + 9}"`);
    expect(text((await fine.read()).value)).toBe(': ping\n\n');
    await fine.cancel();
    expect(src.count).toBe(0);
  });
});
