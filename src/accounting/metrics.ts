/**
 * @module The Prometheus metrics (CONTRACTS §7.4 item 30) in a registry of their own. Recording a
 * request touches only plain numbers: one Map lookup finds the accumulators of its (route, provider,
 * model) — label values from LabelSet, configured ids only — and a few additions follow. prom-client's
 * own per-call label hashing (~1 µs an increment) stays off the request path: the request series are
 * small collectors the registry reads on scrape; gauges and node's process metrics are prom-client's.
 * prom-client itself (~50 ms to load, with @opentelemetry/api) and its process collectors (a GC
 * observer, an event-loop-delay monitor) start on the first scrape: a server nobody scrapes never
 * pays for them, and the start and the first requests do not wait for them.
 */
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import type { Runtime } from '../runtime.js';
import type { SettledRequest } from '../pipeline/stages.js';
import { LabelSet } from './label-set.js';
import { splitModelRef } from '../config/model-ref.js';

/** What the gauges read on each scrape (set by the /metrics route; absent parts report nothing). */
export interface ScrapeSources {
  /** Is provider/model cooling down right now? */
  coolingDown?(key: string): boolean;
  /** Admission gates: id is `provider` or `provider/model`. */
  queue?(): Iterable<{ model: string; processing: number; waiting: number }>;
}

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
const TOKEN_TYPES = ['prompt', 'completion', 'cached', 'reasoning'] as const;

/** A histogram's counts without labels: observe is a short scan and two additions. */
class Buckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(v: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += v;
    this.count++;
  }
  /** Adds another's counts (series that share labels at scrape, e.g. upstream time across routes). */
  add(o: Buckets): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += o.counts[i]!;
    this.sum += o.sum;
    this.count += o.count;
  }
}

/** The accumulators of one (route, provider, model). */
interface Series {
  route: string;
  provider: string;
  model: string;
  requests: Float64Array; // by STATUS_CLASSES
  tokens: Float64Array; // by TOKEN_TYPES
  cost: number;
  failovers: number;
  cacheHits: number;
  duration: Buckets;
  upstream: Buckets;
  ttft: Buckets;
}

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A metric the registry reads through `get()` (prom-client's duck-typed metric contract). */
class ScrapedMetric {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'histogram',
    private readonly samples: () => Sample[],
  ) {}
  get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.samples() };
  }
  reset(): void {}
}

function histogramSamples(name: string, groups: Iterable<[Labels, Buckets]>): Sample[] {
  const out: Sample[] = [];
  for (const [labels, h] of groups) {
    let cumulative = 0;
    h.bounds.forEach((le, i) => {
      cumulative += h.counts[i]!;
      out.push({ labels: { ...labels, le: String(le) }, value: cumulative, metricName: `${name}_bucket` });
    });
    out.push({ labels: { ...labels, le: '+Inf' }, value: h.count, metricName: `${name}_bucket` });
    out.push({ labels, value: h.sum, metricName: `${name}_sum` });
    out.push({ labels, value: h.count, metricName: `${name}_count` });
  }
  return out;
}

const requireCjs = createRequire(import.meta.url);

export class AisbfMetrics {
  private built: Registry | undefined;
  private labels: LabelSet | undefined;
  private labelsFor: Runtime | undefined;
  /** route → provider → model, normalised label values: bounded by the config, never by client input. */
  private readonly index = new Map<string, Map<string, Map<string, Series>>>();
  private readonly series: Series[] = [];
  private usageDropped = 0;
  private sources: ScrapeSources = {};

  constructor(private readonly runtime: () => Runtime) {}

  /** The Prometheus registry, built (and prom-client loaded) on first use: the first scrape. */
  get registry(): Registry {
    return (this.built ??= this.buildRegistry());
  }

  private buildRegistry(): Registry {
    const { Gauge, Registry, collectDefaultMetrics } = requireCjs('prom-client') as typeof import('prom-client');
    const registry = new Registry();
    const registers = [registry];
    const all = () => this.series;
    const byPM = <T>(pick: (s: Series) => T, merge: (a: T, b: T) => T): Map<string, [Labels, T]> => {
      const m = new Map<string, [Labels, T]>();
      for (const s of all()) {
        const k = `${s.provider}\n${s.model}`;
        const prev = m.get(k);
        m.set(k, prev ? [prev[0], merge(prev[1], pick(s))] : [{ provider: s.provider, model: s.model }, pick(s)]);
      }
      return m;
    };
    const byRoute = (pick: (s: Series) => number): Sample[] => {
      const m = new Map<string, number>();
      for (const s of all()) m.set(s.route, (m.get(s.route) ?? 0) + pick(s));
      return [...m].filter(([, v]) => v > 0).map(([route, value]) => ({ labels: { route }, value }));
    };
    const mergeBuckets = (a: Buckets, b: Buckets) => {
      const sum = new Buckets(a.bounds);
      sum.add(a);
      sum.add(b);
      return sum;
    };
    const metrics = [
      new ScrapedMetric('aisbf_requests_total', 'Requests that reached the pipeline, by route, serving provider/model and status class.', 'counter', () =>
        [...all()].flatMap((s) => STATUS_CLASSES.flatMap((status_class, i) => (s.requests[i] ? [{ labels: { route: s.route, provider: s.provider, model: s.model, status_class }, value: s.requests[i]! }] : []))),
      ),
      new ScrapedMetric('aisbf_request_duration_seconds', 'Time from arrival to the end of the answer (streams: to the last part).', 'histogram', () =>
        histogramSamples('aisbf_request_duration_seconds', [...all()].map((s) => [{ route: s.route, provider: s.provider, model: s.model }, s.duration] as [Labels, Buckets])),
      ),
      new ScrapedMetric('aisbf_upstream_duration_seconds', 'Time from the first upstream attempt to the end of the answer (failovers included; time spent before it in aisbf — identity, limits, queue, planning — and cache hits excluded).', 'histogram', () =>
        histogramSamples('aisbf_upstream_duration_seconds', [...byPM((s) => s.upstream, mergeBuckets).values()].filter(([, h]) => h.count > 0)),
      ),
      new ScrapedMetric('aisbf_time_to_first_token_seconds', 'Streams: time from arrival to the first part.', 'histogram', () =>
        histogramSamples('aisbf_time_to_first_token_seconds', [...byPM((s) => s.ttft, mergeBuckets).values()].filter(([, h]) => h.count > 0)),
      ),
      new ScrapedMetric('aisbf_tokens_total', 'Tokens by type (prompt includes cached; completion includes reasoning).', 'counter', () =>
        [...byPM((s) => Float64Array.from(s.tokens), (a, b) => a.map((v, i) => v + b[i]!)).values()].flatMap(([labels, t]) =>
          TOKEN_TYPES.flatMap((type, i) => (t[i] ? [{ labels: { ...labels, type }, value: t[i]! }] : [])),
        ),
      ),
      new ScrapedMetric('aisbf_cost_usd_total', 'Estimated spend in USD (catalogue prices and providers.json overrides).', 'counter', () =>
        [...byPM((s) => s.cost, (a, b) => a + b).values()].filter(([, v]) => v > 0).map(([labels, value]) => ({ labels, value })),
      ),
      new ScrapedMetric('aisbf_failovers_total', 'Candidates that failed before the one that served.', 'counter', () => byRoute((s) => s.failovers)),
      new ScrapedMetric('aisbf_cache_hits_total', 'Requests answered from the response cache.', 'counter', () => byRoute((s) => s.cacheHits)),
      new ScrapedMetric('aisbf_usage_records_dropped_total', 'Usage records dropped because the write queue was full (SQLite stalled).', 'counter', () => [{ labels: {}, value: this.usageDropped }]),
    ];
    for (const m of metrics) registry.registerMetric(m as never);

    // Gauges read their state on scrape: nothing is kept up to date per request for them.
    const self = this;
    const pm = ['provider', 'model'] as const;
    new Gauge({
      name: 'aisbf_cooldown_active', help: '1 while a configured provider/model is cooling down after failures.', labelNames: pm, registers,
      collect() {
        this.reset();
        const cooling = self.sources.coolingDown;
        if (!cooling) return;
        for (const [p, m] of self.labelSet().pairs()) this.set({ provider: p, model: m }, cooling(`${p}/${m}`) ? 1 : 0);
      },
    });
    const queueGauge = (name: string, help: string, field: 'waiting' | 'processing') =>
      new Gauge({
        name, help, labelNames: pm, registers,
        collect() {
          this.reset();
          const gates = self.sources.queue?.();
          if (!gates) return;
          const labels = self.labelSet();
          for (const g of gates) {
            const ref = splitModelRef(g.model);
            const provider = labels.provider(ref ? ref.providerId : g.model);
            const model = ref ? labels.model(provider, ref.model) : '*';
            this.inc({ provider, model }, g[field]);
          }
        },
      });
    queueGauge('aisbf_queue_waiting', 'Requests waiting for an admission slot.', 'waiting');
    queueGauge('aisbf_queue_processing', 'Requests holding an admission slot.', 'processing');
    collectDefaultMetrics({ register: registry });
    return registry;
  }

  setSources(sources: ScrapeSources): void {
    this.sources = sources;
  }

  /** The allowed label values of the current config (rebuilt when the runtime changes on reload). */
  labelSet(): LabelSet {
    const rt = this.runtime();
    if (rt !== this.labelsFor || !this.labels) {
      this.labels = new LabelSet(rt);
      this.labelsFor = rt;
    }
    return this.labels;
  }

  /** O(1): three Set lookups, one Map lookup, a few additions. No allocation once a series exists. */
  record(s: SettledRequest, costUsd: number | undefined): void {
    const x = this.seriesFor(s.meta.route, s.providerId, s.model);
    const status = s.status;
    x.requests[status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3]!++;
    const seconds = s.latencyMs / 1000;
    x.duration.observe(seconds);
    if (s.cacheHit) x.cacheHits++;
    else if (s.upstreamMs !== undefined) x.upstream.observe(s.upstreamMs / 1000);
    if (s.stream && s.ttftMs !== undefined) x.ttft.observe(s.ttftMs / 1000);
    if (s.failovers > 0) x.failovers += s.failovers;
    const u = s.usage;
    if (u) {
      x.tokens[0]! += u.prompt;
      x.tokens[1]! += u.completion;
      x.tokens[2]! += u.cached;
      x.tokens[3]! += u.reasoning;
    }
    if (costUsd) x.cost += costUsd;
  }

  /** Counts records the usage writer dropped. */
  dropped(n: number): void {
    this.usageDropped += n;
  }

  private seriesFor(routeIn: string, providerIn: string | undefined, modelIn: string | undefined): Series {
    const labels = this.labelSet();
    const route = labels.route(routeIn);
    const provider = labels.provider(providerIn);
    const model = labels.model(providerIn, modelIn);
    // Nested maps, not one joined key: a fresh joined string would be hashed on every request.
    let byProvider = this.index.get(route);
    if (!byProvider) this.index.set(route, (byProvider = new Map()));
    let byModel = byProvider.get(provider);
    if (!byModel) byProvider.set(provider, (byModel = new Map()));
    let x = byModel.get(model);
    if (!x) {
      x = {
        route, provider, model,
        requests: new Float64Array(STATUS_CLASSES.length),
        tokens: new Float64Array(TOKEN_TYPES.length),
        cost: 0, failovers: 0, cacheHits: 0,
        duration: new Buckets(DURATION_BUCKETS),
        upstream: new Buckets(DURATION_BUCKETS),
        ttft: new Buckets(TTFT_BUCKETS),
      };
      byModel.set(model, x);
      this.series.push(x);
    }
    return x;
  }
}
