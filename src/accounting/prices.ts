/**
 * @module What a request cost (CONTRACTS §7.3 item 27). Rates come from providers.json's per-model
 * `price` (USD per million tokens), else 0 for Ollama (local), else the maintained catalogue
 * `@pydantic/genai-prices` (matched by the provider's endpoint, its type, then the model name).
 * The rates of a (provider, model) are looked up once per config load and remembered; a request
 * costs a few multiplications. The catalogue (≈ 20 MB of RSS, ~70 ms to load) is loaded on the first
 * lookup that needs it, so a gateway whose models all have a `price` never loads it; and its answers
 * are remembered in the database under its version (store/price-rates.ts), so a restarted daemon
 * prices the models it priced before without loading it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Config } from '../config/load-config.js';
import type { ModelPriceConfig, ProviderConfig } from '../config/schema.js';
import type { PriceBook, TokenUsage } from '../pipeline/stages.js';

/** A rate is USD per million tokens, flat or tiered by the request's prompt tokens (catalogue data). */
type Rate = number | { base: number; tiers: ReadonlyArray<{ start: number; price: number }> };

export interface Rates {
  input: Rate;
  output: Rate;
  cachedInput: Rate;
  cacheWrite: Rate;
  /** undefined: reasoning tokens cost the output rate. */
  reasoning?: Rate;
}

const ZERO: Rates = Object.freeze({ input: 0, output: 0, cachedInput: 0, cacheWrite: 0 });
/** Client-chosen model names are memoised too; past this many, unknown pairs are looked up each time. */
const MAX_MEMO = 5000;

function perToken(rate: Rate, promptTokens: number): number {
  if (typeof rate === 'number') return rate;
  let r = rate.base;
  for (const t of rate.tiers) if (promptTokens > t.start) r = t.price;
  return r;
}

/** USD of `usage` at `rates`; prompt includes cached and cache-write tokens, completion includes reasoning. */
export function costOf(rates: Rates, u: TokenUsage): number {
  const p = u.prompt;
  const cached = Math.min(u.cached, p);
  const write = Math.min(u.cacheWrite ?? 0, p - cached);
  const reasoning = rates.reasoning === undefined ? 0 : Math.min(u.reasoning, u.completion);
  const usd =
    (p - cached - write) * perToken(rates.input, p) +
    cached * perToken(rates.cachedInput, p) +
    write * perToken(rates.cacheWrite, p) +
    (u.completion - reasoning) * perToken(rates.output, p) +
    (reasoning > 0 ? reasoning * perToken(rates.reasoning!, p) : 0);
  return usd / 1e6;
}

export function ratesFromOverride(p: ModelPriceConfig): Rates {
  return {
    input: p.input_per_mtok,
    output: p.output_per_mtok,
    cachedInput: p.cached_input_per_mtok ?? p.input_per_mtok,
    cacheWrite: p.cache_write_per_mtok ?? p.input_per_mtok,
    reasoning: p.reasoning_per_mtok,
  };
}

// The slice of @pydantic/genai-prices we use (its CJS build, loaded synchronously on demand).
type CatalogRate = number | { base: number; tiers: Array<{ start: number; price: number }> } | undefined;
interface CatalogModule {
  calcPrice(usage: Record<string, number>, modelId: string, options?: { providerId?: string; providerApiUrl?: string }): null | { model_price: Record<string, CatalogRate>; provider: { id: string } };
  findProvider(options: { providerId?: string; providerApiUrl?: string }): { id: string } | undefined;
}

const require = createRequire(import.meta.url);
let catalog: CatalogModule | undefined;
function loadCatalog(): CatalogModule {
  catalog ??= require('@pydantic/genai-prices') as CatalogModule;
  return catalog;
}

/**
 * The installed catalogue's version, read from its package.json without loading it (the package
 * exports no `./package.json`, so the file is found beside its resolved entry). undefined when it
 * cannot be read: then nothing is remembered.
 */
export function catalogVersion(): string | undefined {
  try {
    const entry = require.resolve('@pydantic/genai-prices');
    const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { name?: string; version?: string };
    return pkg.name === '@pydantic/genai-prices' && typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

/** Where the catalogue's answers are kept across restarts (store/price-rates.ts), as JSON. */
export interface RememberedRates {
  get(key: string): string | undefined;
  put(key: string, json: string): boolean;
}

/** What a catalogue answer depends on: the provider's type and endpoint, and the model name. */
const rememberKey = (provider: ProviderConfig, model: string): string => JSON.stringify([provider.type, provider.endpoint ?? '', model]);

/** A remembered answer: Rates, null (the catalogue does not know it), or undefined (not remembered / unreadable). */
function parseRemembered(json: string | undefined): Rates | null | undefined {
  if (json === undefined) return undefined;
  try {
    const v = JSON.parse(json) as unknown;
    if (v === null) return null;
    const r = v as Partial<Rates>;
    return r && r.input !== undefined && r.output !== undefined && r.cachedInput !== undefined && r.cacheWrite !== undefined ? (r as Rates) : undefined;
  } catch {
    return undefined;
  }
}

const DEFAULT_API: Partial<Record<ProviderConfig['type'], string>> = { openai: 'openai', anthropic: 'anthropic', google: 'google' };

/** The catalogue's rates for a model, or undefined when it does not know the model. */
export function catalogRates(provider: ProviderConfig, model: string): Rates | undefined {
  const lib = loadCatalog();
  const probe = { input_tokens: 1, output_tokens: 1 };
  let found: ReturnType<CatalogModule['calcPrice']> = null;
  // Hosted OpenAI-compatible APIs (Groq, Mistral, DeepSeek …) are known by their URL.
  const byUrl = provider.endpoint ? lib.findProvider({ providerApiUrl: provider.endpoint }) : undefined;
  if (byUrl) found = lib.calcPrice(probe, model, { providerId: byUrl.id });
  const byType = DEFAULT_API[provider.type];
  if (!found && byType && (!provider.endpoint || !byUrl)) found = lib.calcPrice(probe, model, { providerId: byType });
  // Anything else (a self-hosted server, Hugging Face): whoever in the catalogue serves that model name.
  found ??= lib.calcPrice(probe, model);
  if (!found) return undefined;
  const mp = found.model_price;
  const input = mp.input_mtok ?? mp.input_text_mtok;
  const output = mp.output_mtok ?? mp.output_text_mtok;
  if (input === undefined || output === undefined) return undefined;
  const reasoning = mp.output_reasoning_mtok ?? mp.output_text_reasoning_mtok;
  return {
    input,
    output,
    cachedInput: mp.cache_read_mtok ?? mp.cache_text_read_mtok ?? input,
    cacheWrite: mp.cache_write_mtok ?? mp.cache_text_write_mtok ?? input,
    reasoning,
  };
}

/** The PriceBook of the pipeline: rates memoised per config (a reload starts a fresh memo). */
export class CatalogPriceBook implements PriceBook {
  private memo = new Map<string, Rates | null>();
  private memoFor: Config | undefined;

  constructor(
    private readonly config: () => Config,
    /** The catalogue's answers from earlier processes (the daemon's database); none in one-shot uses. */
    private readonly remembered?: RememberedRates,
  ) {}

  rates(providerId: string, model: string): Rates | undefined {
    const config = this.config();
    if (config !== this.memoFor) {
      this.memo = new Map();
      this.memoFor = config;
    }
    const key = `${providerId}/${model}`;
    const hit = this.memo.get(key);
    if (hit !== undefined) return hit ?? undefined;
    const found = this.lookup(config, providerId, model);
    if (this.memo.size < MAX_MEMO) this.memo.set(key, found ?? null);
    return found;
  }

  cost(providerId: string, model: string, usage: TokenUsage): number | undefined {
    const r = this.rates(providerId, model);
    return r ? costOf(r, usage) : undefined;
  }

  private lookup(config: Config, providerId: string, model: string): Rates | undefined {
    const provider = config.providers.providers[providerId];
    if (!provider) return undefined;
    const override = provider.models.find((m) => m.name === model)?.price;
    if (override) return ratesFromOverride(override);
    if (provider.type === 'ollama') return ZERO;
    const key = this.remembered && rememberKey(provider, model);
    if (key !== undefined) {
      const hit = parseRemembered(this.remembered!.get(key));
      if (hit !== undefined) return hit ?? undefined;
    }
    let found: Rates | undefined;
    try {
      found = catalogRates(provider, model);
    } catch {
      return undefined; // a catalogue bug must never fail a request (nor be remembered)
    }
    if (key !== undefined) this.remembered!.put(key, JSON.stringify(found ?? null));
    return found;
  }
}
