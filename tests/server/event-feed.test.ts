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

/** The SSE blocks of one read (a read may carry many). */
async function blocks(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string[]> {
  const { value } = await reader.read();
  return new TextDecoder().decode(value).split('\n\n').filter(Boolean);
}

describe('EventFeed', () => {
  it('keeps at most FEED_QUEUE_LIMIT events for a reader that does not read, counts the rest as dropped, and tells the reader where the gap is', async () => {
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

    // One read takes everything queued: hello, the events kept, then the notice of the ones dropped.
    const reader = stream.getReader();
    const got = await blocks(reader);
    expect(got).toHaveLength(FEED_QUEUE_LIMIT + 1);
    expect(got[0]).toContain('event: hello');
    expect(got[1]).toMatch(/^id: 1\ndata: \{/);
    expect(JSON.parse(got[1]!.split('data: ')[1]!)).toMatchObject({ request_id: 'req-0', target: 'a/m', status: 200, cost_usd: 0.001, stream: false });
    expect(got[FEED_QUEUE_LIMIT - 1]).toContain(`"request_id":"req-${FEED_QUEUE_LIMIT - 2}"`);
    expect(got[FEED_QUEUE_LIMIT]).toBe(`event: dropped\ndata: {"dropped":${stats.dropped}}`);

    // Then the feed goes on.
    src.publish(row(total));
    feed.flush();
    expect((await blocks(reader))[0]).toContain(`"request_id":"req-${total}"`);
    await reader.cancel();
    // The last reader gone: nothing is subscribed, nothing is kept.
    expect(src.count).toBe(0);
    expect(feed.stats().clients).toBe(0);
  });

  it('hands a waiting reader the events of a flush in one chunk', async () => {
    const src = source();
    const feed = new EventFeed(src.subscribe);
    const reader = feed.open()!.getReader();
    expect((await blocks(reader))[0]).toContain('event: hello');
    const pending = blocks(reader);
    src.publish(row(7));
    src.publish(row(8));
    feed.flush();
    const got = await pending;
    expect(got.map((b) => JSON.parse(b.split('data: ')[1]!).request_id)).toEqual(['req-7', 'req-8']);
    expect(feed.stats()).toMatchObject({ clients: 1, dropped: 0, queued: 2 });
    await reader.cancel();
  });

  it('ends the stream of a reader that stopped reading altogether, freeing its slot', async () => {
    const src = source();
    const feed = new EventFeed(src.subscribe);
    let evicted = 0;
    const slow = feed.open(() => evicted++)!.getReader();
    const fine = feed.open()!.getReader();
    await blocks(fine); // hello
    for (let i = 0; i < FEED_QUEUE_LIMIT + 10; i++) {
      const pending = blocks(fine);
      src.publish(row(i));
      feed.flush();
      await pending;
    }
    // Not yet: the slow reader's queue has been full for less than FEED_STUCK_MS.
    feed.beat(Date.now());
    expect(feed.stats().clients).toBe(2);
    expect(await blocks(fine)).toEqual([': ping']);
    feed.beat(Date.now() + FEED_STUCK_MS);
    expect(feed.stats().clients).toBe(1);
    expect(evicted).toBe(1);
    // Its body ends (nothing more is queued for it).
    expect((await slow.read()).done).toBe(true);
    // The reader that keeps up is untouched.
    expect(await blocks(fine)).toEqual([': ping']);
    await fine.cancel();
    expect(src.count).toBe(0);
  });
});
