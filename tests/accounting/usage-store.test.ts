import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.js';
import { UsageStore, type UsageRow } from '../../src/store/usage.js';
import { HistoryCleanup } from '../../src/accounting/history-cleanup.js';
import { parseTime } from '../../src/accounting/time-range.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 5, 1, 12);

function row(over: Partial<UsageRow>): UsageRow {
  return {
    ts: T0, request_id: 'r', parent_id: null, client_id: 'anonymous', key_id: null, user: null, route: 'chat',
    target: null, provider: 'openai', model: 'gpt-4o', attempts: 1, status: 200, error_code: null,
    prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, cache_write_tokens: 0,
    effective_context: null, cost_usd: null, latency_ms: 1, ttft_ms: null, stream: 0, cache_hit: 0, aborted: 0, failovers: 0,
    ...over,
  };
}

describe('usage insert', () => {
  it('stores every field in its own column (the insert binds them by position)', () => {
    const store = new UsageStore(openDatabase(':memory:'));
    const distinct: UsageRow = {
      ts: T0 + 1, request_id: 'req', parent_id: 'par', client_id: 'cli', key_id: 'key', user: 'usr', route: 'rte',
      target: 'tgt', provider: 'prv', model: 'mdl', attempts: 2, status: 3, error_code: 'err',
      prompt_tokens: 4, completion_tokens: 5, cached_tokens: 6, reasoning_tokens: 7, cache_write_tokens: 8,
      effective_context: 9, cost_usd: 10.5, latency_ms: 11, ttft_ms: 12, stream: 13, cache_hit: 14, aborted: 15, failovers: 16,
    };
    store.insert([distinct]);
    const { id, ...stored } = store.forRequest('req')[0] as UsageRow & { id: number };
    expect(id).toBeGreaterThan(0);
    expect(stored).toEqual(distinct);
  });
});

describe('usage aggregates', () => {
  const db = openDatabase(':memory:');
  const store = new UsageStore(db);
  store.insert([
    row({ request_id: 'a', key_id: 'key_1', user: 'ann', client_id: 'ci', prompt_tokens: 100, completion_tokens: 10, cost_usd: 0.1 }),
    row({ request_id: 'b', key_id: 'key_1', user: 'ann', client_id: 'ci', prompt_tokens: 50, completion_tokens: 5, cached_tokens: 20, cost_usd: 0.2, ts: T0 + DAY }),
    row({ request_id: 'c', key_id: 'key_2', user: 'bob', client_id: 'web', provider: 'anthropic', model: 'claude', status: 502, error_code: 'server', ts: T0 + DAY }),
    row({ request_id: 'd', parent_id: 'a', route: 'internal:selector', prompt_tokens: 7, reasoning_tokens: 3, cost_usd: 0.0001 }),
  ]);

  it('totals requests, errors, tokens by type and cost over a range', () => {
    const { totals } = store.summary({ from: T0 - DAY, to: T0 + 2 * DAY });
    expect(totals).toEqual({ requests: 4, errors: 1, prompt_tokens: 157, completion_tokens: 15, cached_tokens: 20, reasoning_tokens: 3, cost_usd: 0.3001, cache_hits: 0 });
  });

  it('groups by key, user, client, model, provider and day', () => {
    const range = { from: T0 - DAY, to: T0 + 2 * DAY };
    const groups = (g: 'key' | 'user' | 'client' | 'model' | 'provider' | 'day') => Object.fromEntries(store.summary({ ...range, groupBy: g }).groups!.map((r) => [r.group, r.requests]));
    expect(groups('key')).toEqual({ key_1: 2, key_2: 1, '': 1 });
    expect(groups('user')).toEqual({ ann: 2, bob: 1, '': 1 });
    expect(groups('client')).toEqual({ ci: 2, web: 1, anonymous: 1 });
    expect(groups('model')).toEqual({ 'openai/gpt-4o': 3, 'anthropic/claude': 1 });
    expect(groups('provider')).toEqual({ openai: 3, anthropic: 1 });
    expect(groups('day')).toEqual({ '2025-06-01': 2, '2025-06-02': 2 });
  });

  it('counts only records inside [from, to)', () => {
    expect(store.summary({ from: T0 + DAY, to: T0 + 2 * DAY }).totals.requests).toBe(2);
    expect(store.summary({ from: T0, to: T0 + DAY }).totals.requests).toBe(2);
  });

  it("returns a request's own record and those of the internal calls it caused", () => {
    expect(store.forRequest('a').map((r) => r.request_id)).toEqual(['a', 'd']);
  });
});

describe('history retention', () => {
  it('deletes records older than retention_days, at most maxRowsPerRun per run', () => {
    const db = openDatabase(':memory:');
    const store = new UsageStore(db);
    const now = T0 + 30 * DAY;
    store.insert([...Array.from({ length: 5 }, (_, i) => row({ request_id: `old${i}`, ts: T0 + i })), row({ request_id: 'new', ts: now - DAY })]);
    const cleanup = new HistoryCleanup({ usage: store, retentionDays: () => 15, clock: () => now, maxRowsPerRun: 2 });
    expect(cleanup.runOnce()).toBe(2);
    expect(cleanup.runOnce()).toBe(2);
    expect(cleanup.runOnce()).toBe(1);
    expect(cleanup.runOnce()).toBe(0);
    expect(store.forRequest('new')).toHaveLength(1);
    db.close();
  });
});

describe('time parameters', () => {
  const now = T0;
  it('reads ISO dates, date-times, ms since epoch and durations back from now', () => {
    expect(parseTime('2025-06-01', now)).toBe(Date.UTC(2025, 5, 1));
    expect(parseTime('2025-06-01T10:00:00Z', now)).toBe(Date.UTC(2025, 5, 1, 10));
    expect(parseTime('2025-06-01T10:00', now)).toBe(Date.UTC(2025, 5, 1, 10));
    expect(parseTime(String(now), now)).toBe(now);
    expect(parseTime('7d', now)).toBe(now - 7 * DAY);
    expect(parseTime('90m', now)).toBe(now - 90 * 60_000);
    expect(parseTime('yesterday', now)).toBeUndefined();
    expect(parseTime('2025-13-45', now)).toBeUndefined();
  });
});
