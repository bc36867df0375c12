/**
 * The rule of issue 13: only a ProviderError from the provider layer is a provider failure. An
 * exception raised in our own code (a RangeError from a stack overflow, a TypeError) never cools a
 * candidate down, never fails over, and reaches the caller as itself (the server answers our own 500).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { buildRuntime, type Runtime } from '../../src/runtime.js';
import { RoutingState } from '../../src/routing/routing-state.js';
import { runWithFallback, type AttemptOptions } from '../../src/routing/run-with-fallback.js';
import { ProviderError } from '../../src/providers/provider-error.js';
import { silentLogger } from '../../src/log.js';
import type { Candidate } from '../../src/routing/candidate.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

// Nothing here is ever called over the network: the attempt functions throw before any I/O.
const dir = makeConfigDir({
  providers: {
    p1: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k1', models: [] },
    p2: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k2', models: [] },
  },
  rotations: {
    r: { model_name: 'r', strategy: 'priority', failure_threshold: 1, providers: [{ provider_id: 'p1', models: [{ name: 'm', weight: 2 }] }, { provider_id: 'p2', models: [{ name: 'm', weight: 1 }] }] },
  },
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function setup(): { rt: Runtime; routing: RoutingState; cands: Candidate[]; opts: AttemptOptions } {
  const rt = buildRuntime(loadConfig({ dir, env: {} }));
  const routing = new RoutingState();
  const cands = rt.rotations.get('r')!;
  const opts: AttemptOptions = { runtime: rt, keys: {}, signal: new AbortController().signal, log: silentLogger, routing, rotation: { id: 'r', config: rt.config.rotations.rotations.r! } };
  return { rt, routing, cands, opts };
}

describe('an exception of our own is never a provider failure', () => {
  it('a RangeError (stack overflow) is rethrown as is: not counted, not failed over', async () => {
    const { routing, cands, opts } = setup();
    const called: string[] = [];
    const overflow = new RangeError('Maximum call stack size exceeded');
    const err = await runWithFallback(
      cands,
      async (c) => {
        called.push(c.key);
        throw overflow;
      },
      opts,
    ).catch((e: unknown) => e);
    expect(err).toBe(overflow);
    expect(called).toEqual(['p1/m']);
    expect(routing.health.get('p1/m')?.failures ?? 0).toBe(0);
    expect(routing.health.coolingUntil('p1/m')).toBeUndefined();
    expect(routing.candidateState(cands[0]!).state).toBe('healthy');
  });

  it('a TypeError is rethrown as is and leaves health alone', async () => {
    const { routing, cands, opts } = setup();
    const err = await runWithFallback(cands, async () => (undefined as unknown as { x: { y: number } }).x.y, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(routing.health.get('p1/m')?.failures ?? 0).toBe(0);
  });

  it('whereas a ProviderError from the provider layer counts, cools down and fails over', async () => {
    const { routing, cands, opts } = setup();
    const called: string[] = [];
    const r = await runWithFallback(
      cands,
      async (c) => {
        called.push(c.key);
        if (c.providerId === 'p1') throw new ProviderError('could not connect', { kind: 'connection', provider: 'p1', model: 'm' });
        return 'served';
      },
      opts,
    );
    expect(r.value).toBe('served');
    expect(called).toEqual(['p1/m', 'p2/m']);
    expect(routing.health.get('p1/m')?.failures).toBe(1);
    expect(routing.health.coolingUntil('p1/m')).toBeGreaterThan(Date.now());
  });
});
