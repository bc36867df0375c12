/**
 * The price catalogue's answers are kept in the database under its version, so a restarted daemon
 * prices the models it priced before without loading the catalogue (~70 ms of the event loop, ~20 MB).
 * vitest's forks pool runs each test file in its own process, so node's require cache tells whether
 * this process ever loaded it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogPriceBook, catalogVersion } from '../../src/accounting/prices.js';
import { loadConfig } from '../../src/config/load-config.js';
import { openDatabase } from '../../src/store/db.js';
import { MAX_PRICE_ROWS, PriceRatesStore } from '../../src/store/price-rates.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { makeConfigDir, startAisbf, type TestServer } from '../helpers/aisbf-server.js';

const require = createRequire(import.meta.url);
const catalogueLoaded = (): boolean => Object.keys(require.cache).some((p) => p.includes('/node_modules/@pydantic/genai-prices/'));
/** The key prices.ts stores an answer under: provider type, endpoint, model. */
const keyOf = (endpoint: string, model: string) => JSON.stringify(['openai', endpoint, model]);

describe('the price store', () => {
  it('knows the installed catalogue version without loading the catalogue', () => {
    expect(catalogVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(catalogueLoaded()).toBe(false);
  });

  it('keeps answers per catalogue version, drops other versions when opened, and stays bounded', () => {
    const db = openDatabase(':memory:');
    const old = new PriceRatesStore(db, '0.0.1');
    expect(old.put('k', '{"input":1,"output":2,"cachedInput":1,"cacheWrite":1}')).toBe(true);
    expect(old.get('k')).toContain('"input":1');
    const now = new PriceRatesStore(db, '0.0.2');
    expect(now.get('k')).toBeUndefined();
    expect(db.prepare('SELECT COUNT(*) AS n FROM price_rates').get()).toEqual({ n: 0 });
    for (let i = 0; i < MAX_PRICE_ROWS; i++) expect(now.put(`m${i}`, 'null')).toBe(true);
    expect(now.put('one-more', 'null')).toBe(false);
    expect(now.get('one-more')).toBeUndefined();
    db.close();
    // A closed database is a miss, never an exception on the request path.
    expect(now.get('m1')).toBeUndefined();
    expect(now.put('m1', 'null')).toBe(false);
  });
});

describe('a restarted daemon prices its models from the database', () => {
  let fake: FakeOpenAI;
  let aisbf: TestServer;
  let v1: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    // Remembered rates for gpt-4o-mini that the catalogue would never give (1000 / 4000 USD per
    // million tokens): a cost at those rates proves where it came from.
    const cfg = {
      providers: {
        openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-upstream-test-1234567890', models: [{ name: 'gpt-4o-mini' }, { name: 'gpt-4o' }] },
      },
    };
    aisbf = await startAisbf(cfg);
    // Stop it, store the answers as an earlier process would have, and start again on that database.
    await aisbf.restart!(() => {
      const db = openDatabase(join(aisbf.configDir, 'aisbf.db'));
      new PriceRatesStore(db, catalogVersion()!).put(keyOf(fake.baseURL, 'gpt-4o-mini'), JSON.stringify({ input: 1000, output: 4000, cachedInput: 1000, cacheWrite: 1000 }));
      db.close();
    });
    v1 = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await aisbf?.close();
    await fake?.close();
  });

  const costOf = async (requestId: string): Promise<number | null> => {
    aisbf.running.deps.accounting!.writer.flush();
    await expect.poll(() => aisbf.running.deps.accounting!.usage.forRequest(requestId).length).toBe(1);
    return aisbf.running.deps.accounting!.usage.forRequest(requestId)[0]!.cost_usd;
  };

  it('uses the remembered rates without loading the catalogue', async () => {
    fake.enqueue({ type: 'reply', text: 'hi', usage: { prompt_tokens: 1000, completion_tokens: 500 } });
    const r = await v1.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'remembered-1' } });
    expect(r.choices[0]!.message.content).toBe('hi');
    // 1000 · 1000 / 1e6 + 500 · 4000 / 1e6
    expect(await costOf('remembered-1')).toBeCloseTo(3, 9);
    expect(catalogueLoaded()).toBe(false);
  });

  it('asks the catalogue for a model it has no answer for, and remembers the answer', async () => {
    fake.enqueue({ type: 'reply', text: 'hello', usage: { prompt_tokens: 1_000_000, completion_tokens: 0 } });
    await v1.chat.completions.create({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'remembered-2' } });
    const cost = await costOf('remembered-2');
    expect(catalogueLoaded()).toBe(true);
    // The catalogue's gpt-4o input rate, per million prompt tokens: a real price, not the seeded one.
    expect(cost).toBeGreaterThan(0.5);
    expect(cost).toBeLessThan(20);
    const row = aisbf.running.deps.db.prepare('SELECT rates FROM price_rates WHERE key = ?').get(keyOf(fake.baseURL, 'gpt-4o')) as { rates: string };
    expect(JSON.parse(row.rates).input).toBeCloseTo(cost!, 9);
  });
});

describe('a stored answer that cannot be read', () => {
  it('is asked of the catalogue again and replaced, never used or thrown', () => {
    const endpoint = 'http://127.0.0.1:9/v1';
    const config = loadConfig({ dir: makeConfigDir({ providers: { oa: { type: 'openai', endpoint, api_key: 'sk-x-000000', models: [] } } }), env: {} });
    const db = openDatabase(':memory:');
    const store = new PriceRatesStore(db, catalogVersion()!);
    store.put(keyOf(endpoint, 'gpt-4o'), '{"input":');
    store.put(keyOf(endpoint, 'gpt-4o-mini'), '{"input":1}');
    const book = new CatalogPriceBook(() => config, store);
    for (const model of ['gpt-4o', 'gpt-4o-mini']) {
      const rates = book.rates('oa', model)!;
      expect(rates.input, model).toBeGreaterThan(0);
      expect(rates.input, model).not.toBe(1);
      expect(JSON.parse(store.get(keyOf(endpoint, model))!), model).toEqual(JSON.parse(JSON.stringify(rates)));
    }
    db.close();
  });
});
