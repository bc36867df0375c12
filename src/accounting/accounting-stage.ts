/**
 * @module The accounting stage: each settled request becomes one usage record (queued for the batch
 * writer), metric increments and, when configured, an OpenTelemetry span. O(1) per request: no
 * JSON, no SQLite, no await on the request's path; never throws.
 */
import type { Logger } from 'pino';
import type { AccountingStage, SettledRequest } from '../pipeline/stages.js';
import type { Runtime } from '../runtime.js';
import type { UsageRow } from '../store/usage.js';
import type { AisbfMetrics } from './metrics.js';
import type { UsageWriter } from './usage-writer.js';
import { GEN_AI_SYSTEM, loadTelemetry, type Telemetry } from './telemetry.js';

export interface UsageAccountingOptions {
  runtime(): Runtime;
  writer: UsageWriter;
  metrics: AisbfMetrics;
  version: string;
  log?: Logger;
}

/** The flat row of a settled request (CONTRACTS §7.4 item 28). */
export function usageRow(s: SettledRequest): UsageRow {
  const u = s.usage;
  const id = s.meta.identity;
  return {
    ts: s.meta.startedAt,
    request_id: s.meta.requestId,
    parent_id: s.meta.parent ?? null,
    client_id: s.meta.clientId,
    key_id: id.keyId ?? null,
    user: id.user ?? null,
    route: s.meta.route,
    target: s.target ?? null,
    provider: s.providerId ?? null,
    model: s.model ?? null,
    attempts: s.attempts,
    status: s.status,
    error_code: s.errorCode ?? null,
    prompt_tokens: u?.prompt ?? 0,
    completion_tokens: u?.completion ?? 0,
    cached_tokens: u?.cached ?? 0,
    reasoning_tokens: u?.reasoning ?? 0,
    cache_write_tokens: u?.cacheWrite ?? 0,
    effective_context: u?.effectiveContext ?? null,
    cost_usd: s.costUsd ?? null,
    latency_ms: Math.max(0, Math.round(s.latencyMs)),
    ttft_ms: s.ttftMs === undefined ? null : Math.round(s.ttftMs),
    stream: s.stream ? 1 : 0,
    cache_hit: s.cacheHit ? 1 : 0,
    aborted: s.aborted ? 1 : 0,
    failovers: s.failovers,
  };
}

export class UsageAccounting implements AccountingStage {
  readonly inactive = false;
  private telemetry: Telemetry | undefined;
  private telemetryEndpoint: string | undefined;
  private telemetryFor: Runtime | undefined;
  private telemetryLoading: Promise<void> = Promise.resolve();
  /** Live subscribers (the dashboard's /admin/events); empty costs one length check per request. */
  private readonly listeners = new Set<(row: UsageRow) => void>();

  constructor(private readonly opts: UsageAccountingOptions) {
    this.checkTelemetry(opts.runtime());
  }

  record(s: SettledRequest): void {
    try {
      const row = usageRow(s);
      this.opts.writer.push(row);
      this.opts.metrics.record(s, s.costUsd);
      const rt = this.opts.runtime();
      if (rt !== this.telemetryFor) this.checkTelemetry(rt);
      if (this.telemetry) {
        const type = s.providerId ? rt.config.providers.providers[s.providerId]?.type : undefined;
        this.telemetry.span(s, type ? GEN_AI_SYSTEM[type] : undefined);
      }
      if (this.listeners.size) for (const fn of this.listeners) fn(row);
    } catch (err) {
      this.opts.log?.warn({ err: (err as Error).message }, 'recording usage failed');
    }
  }

  /** Calls `fn` with each settled request's row (it must not throw or block); returns the unsubscribe. */
  subscribe(fn: (row: UsageRow) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves once the OpenTelemetry exporter of the current config is loaded (tests, start-up). */
  telemetryReady(): Promise<void> {
    return this.telemetryLoading;
  }

  /** Sends the spans queued so far. */
  async flushTelemetry(): Promise<void> {
    await this.telemetryLoading;
    await this.telemetry?.flush();
  }

  async close(): Promise<void> {
    await this.telemetryLoading;
    await this.telemetry?.shutdown().catch(() => undefined);
    this.telemetry = undefined;
  }

  /** Loads (or swaps) the exporter when `telemetry.otlp_endpoint` is set or changed by a reload. */
  private checkTelemetry(rt: Runtime): void {
    this.telemetryFor = rt;
    const cfg = rt.config.aisbf.telemetry;
    const endpoint = cfg.otlp_endpoint;
    if (endpoint === this.telemetryEndpoint) return;
    this.telemetryEndpoint = endpoint;
    const old = this.telemetry;
    this.telemetry = undefined;
    this.telemetryLoading = this.telemetryLoading.then(async () => {
      await old?.shutdown().catch(() => undefined);
      if (!endpoint || endpoint !== this.telemetryEndpoint) return;
      try {
        this.telemetry = await loadTelemetry({ ...cfg, otlp_endpoint: endpoint }, this.opts.version, this.opts.log);
      } catch (err) {
        this.opts.log?.error({ err: (err as Error).message }, 'OpenTelemetry export could not start');
      }
    });
  }
}
