/**
 * @module OpenTelemetry export (CONTRACTS §7.4, issue 15): with `telemetry.otlp_endpoint` set, one span
 * per settled request with the GenAI semantic-convention attributes, sent over OTLP/HTTP (JSON) in
 * batches. The @opentelemetry packages are imported only when configured: unset, nothing is loaded.
 */
import type { Logger } from 'pino';
import type { TelemetryConfig } from '../config/accounting-config.js';
import type { SettledRequest } from '../pipeline/stages.js';

export interface Telemetry {
  /** Turns a settled request into a span (queued; exported in the background). */
  span(s: SettledRequest, system: string | undefined): void;
  /** Exports what is queued now. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** gen_ai.operation.name per route (the GenAI conventions' well-known values where one fits). */
const OPERATION: Readonly<Record<string, string>> = {
  chat: 'chat', responses: 'chat', messages: 'chat', embeddings: 'embeddings', images: 'generate_content',
  'internal:selector': 'chat', 'internal:condense': 'chat', 'internal:judge': 'chat',
};

/** gen_ai.system / gen_ai.provider.name for each provider type. */
export const GEN_AI_SYSTEM: Readonly<Record<string, string>> = {
  openai: 'openai', anthropic: 'anthropic', google: 'gcp.gemini', ollama: 'ollama', huggingface: 'huggingface',
};

export async function loadTelemetry(cfg: TelemetryConfig & { otlp_endpoint: string }, version: string, log?: Logger): Promise<Telemetry> {
  const [api, trace, resources, exporterMod] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ]);
  const exporter = new exporterMod.OTLPTraceExporter({ url: cfg.otlp_endpoint, headers: cfg.headers ?? {} });
  const provider = new trace.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': cfg.service_name, 'service.version': version }),
    spanProcessors: [new trace.BatchSpanProcessor({ exporter, maxQueueSize: 2048, scheduledDelayMillis: 1000 })],
  });
  // Not registered globally: aisbf's spans come only from here, and a host app's tracer stays its own.
  const tracer = provider.getTracer('aisbf', version);
  log?.info({ endpoint: cfg.otlp_endpoint }, 'OpenTelemetry export on');
  return {
    span(s, system) {
      const operation = OPERATION[s.meta.route] ?? s.meta.route;
      const model = s.model ?? s.target ?? 'unknown';
      const attributes: Record<string, string | number | boolean> = {
        'gen_ai.operation.name': operation,
        'aisbf.route': s.meta.route,
        'aisbf.request_id': s.meta.requestId,
        'aisbf.client_id': s.meta.clientId,
        'aisbf.attempts': s.attempts,
        'aisbf.stream': s.stream,
        'aisbf.cache_hit': s.cacheHit,
        'http.response.status_code': s.status,
      };
      if (system) {
        attributes['gen_ai.system'] = system;
        attributes['gen_ai.provider.name'] = system;
      }
      if (s.target) attributes['gen_ai.request.model'] = s.target;
      if (s.model) attributes['gen_ai.response.model'] = s.model;
      if (s.providerId) attributes['aisbf.provider'] = s.providerId;
      if (s.usage) {
        attributes['gen_ai.usage.input_tokens'] = s.usage.prompt;
        attributes['gen_ai.usage.output_tokens'] = s.usage.completion;
      }
      if (s.costUsd !== undefined) attributes['aisbf.cost_usd'] = s.costUsd;
      if (s.ttftMs !== undefined) attributes['aisbf.time_to_first_token_ms'] = s.ttftMs;
      if (s.meta.parent) attributes['aisbf.parent_request_id'] = s.meta.parent;
      if (s.errorCode) attributes['error.type'] = s.errorCode;
      const span = tracer.startSpan(`${operation} ${model}`, { kind: api.SpanKind.CLIENT, startTime: s.meta.startedAt, attributes });
      if (s.status >= 400) span.setStatus({ code: api.SpanStatusCode.ERROR, message: s.errorCode ?? String(s.status) });
      span.end(s.meta.startedAt + s.latencyMs);
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
