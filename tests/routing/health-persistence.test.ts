import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/providers/provider-error.js';
import { RoutingState } from '../../src/routing/routing-state.js';
import { openDatabase } from '../../src/store/db.js';
import { createSqliteRoutingStore } from '../../src/store/health-state.js';
import { chat, priorityRotation, startFleet, type Fleet } from './rotation-fixture.js';

let fleet: Fleet | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('health and rate-limit state across restarts', () => {
  it('keeps a cooldown, its failure count and last error when aisbf restarts on the same config dir', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.setModelBehavior('gpt-4o', { type: 'error', status: 502, message: 'bad gateway upstream' });
    for (let i = 0; i < 3; i++) await chat(fleet);
    const before = await fleet.state('r', 'p1');
    expect(before.state).toBe('cooling');

    await fleet.aisbf.restart!();
    const after = await fleet.state('r', 'p1');
    expect(after).toMatchObject({ state: 'cooling', until: before.until, failures: 3 });
    expect(after.last_error).toContain('bad gateway upstream');
    const r = await chat(fleet);
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    expect(fleet.calls('p1')).toBe(3);
  });

  it('keeps rate-limit spacing and token windows across a restart', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2'], rotations: priorityRotation({}, 'gpt-4o', { p1: { rate_limit: 60 }, p2: { rate_limit_TPM: 10 } }) });
    fleet.fakes.p2!.enqueue({ type: 'reply', usage: { prompt_tokens: 8, completion_tokens: 4 } });
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p2');
    await fleet.aisbf.restart!();
    expect((await fleet.state('r', 'p1')).state).toBe('rate_limited');
    expect(await fleet.state('r', 'p2')).toMatchObject({ state: 'rate_limited', limit: 'TPM 10' });
    const r = await chat(fleet);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('60');
  });

  it('writes behind: changes reach the database on flush, not on the request path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-health-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'aisbf.db'));
    const store = createSqliteRoutingStore(db);
    let now = 1_000_000;
    const state = new RoutingState({ store, clock: () => now, flushIntervalMs: 60_000 });
    const err = new ProviderError('boom', { kind: 'server', status: 500, provider: 'p', model: 'm' });
    state.health.recordFailure('p/m', err, { failureThreshold: 1, cooldownMs: 5000 });
    expect(store.load().health).toEqual([]); // nothing written yet
    state.flush();
    expect(store.load().health).toEqual([
      { key: 'p/m', failures: 1, cooldownUntil: now + 5000, tripped: true, lastFailureAt: now, lastError: '500 server: boom' },
    ]);
    state.health.recordSuccess('p/m');
    state.close();
    now += 1;
    const reloaded = new RoutingState({ store: createSqliteRoutingStore(db), clock: () => now });
    expect(reloaded.health.get('p/m')).toMatchObject({ failures: 0, cooldownUntil: 0, tripped: false });
    db.close();
  });
});
