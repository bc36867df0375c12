import { describe, expect, it } from 'vitest';
import { CatalogPriceBook, costOf, ratesFromOverride } from '../../src/accounting/prices.js';
import { loadConfig } from '../../src/config/load-config.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

function book(providers: Record<string, unknown>) {
  const config = loadConfig({ dir: makeConfigDir({ providers }), env: {} });
  return new CatalogPriceBook(() => config);
}

const usage = (prompt: number, completion: number, cached = 0, reasoning = 0, cacheWrite?: number) => ({ prompt, completion, cached, reasoning, cacheWrite });

describe('prices', () => {
  it('prices a providers.json override, cached input and reasoning tokens at their own rates', () => {
    const rates = ratesFromOverride({ input_per_mtok: 2, output_per_mtok: 8, cached_input_per_mtok: 0.5, cache_write_per_mtok: 2.5, reasoning_per_mtok: 10 });
    // 1M prompt of which 200k cached and 100k written to the cache; 1M completion of which 400k reasoning.
    expect(costOf(rates, usage(1_000_000, 1_000_000, 200_000, 400_000, 100_000))).toBeCloseTo(0.7 * 2 + 0.2 * 0.5 + 0.1 * 2.5 + 0.6 * 8 + 0.4 * 10, 9);
    // Without a reasoning rate, reasoning tokens are output tokens.
    expect(costOf(ratesFromOverride({ input_per_mtok: 1, output_per_mtok: 4 }), usage(1_000_000, 1_000_000, 0, 500_000))).toBeCloseTo(5, 9);
  });

  it('uses the override from providers.json, 0 for Ollama, the catalogue otherwise', () => {
    const b = book({
      mine: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key_required: false, models: [{ name: 'house-model', price: { input_per_mtok: 3, output_per_mtok: 6 } }] },
      local: { type: 'ollama', endpoint: 'http://127.0.0.1:11434', api_key_required: false, models: [] },
      openai: { type: 'openai', api_key: 'sk-x-000000', models: [] },
    });
    expect(b.cost('mine', 'house-model', usage(1000, 1000))).toBeCloseTo(0.009, 12);
    expect(b.cost('local', 'llama3.1:8b', usage(5000, 5000))).toBe(0);
    const catalogue = b.rates('openai', 'gpt-4o-mini')!;
    expect(catalogue.input).toBeGreaterThan(0);
    expect(catalogue.cachedInput).toBeLessThan(catalogue.input as number);
    expect(b.cost('openai', 'gpt-4o-mini', usage(1_000_000, 0))).toBeCloseTo(catalogue.input as number, 9);
    expect(b.cost('openai', 'no-such-model-anywhere', usage(10, 10))).toBeUndefined();
    expect(b.cost('unknown-provider', 'gpt-4o', usage(10, 10))).toBeUndefined();
  });

  it('looks a (provider, model) up once per config', () => {
    const b = book({ openai: { type: 'openai', api_key: 'sk-x-000000', models: [] } });
    expect(b.rates('openai', 'gpt-4o')).toBe(b.rates('openai', 'gpt-4o'));
  });
});
