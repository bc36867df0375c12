/** @module aisbf.json `history` and `telemetry`: usage retention and OpenTelemetry (issue 15 owns this file). */
import { z } from 'zod';

export const historyConfigSchema = z
  .strictObject({
    /** Usage records older than this are deleted (hourly, a bounded number of rows per run). */
    retention_days: z.number().positive().default(15),
  })
  .prefault({});

export const telemetryConfigSchema = z
  .strictObject({
    /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces. Unset: no OpenTelemetry code is loaded. */
    otlp_endpoint: z.url({ protocol: /^https?$/, error: 'otlp_endpoint must be an http(s) URL, e.g. http://127.0.0.1:4318/v1/traces' }).optional(),
    service_name: z.string().min(1).default('aisbf'),
    /** Extra headers sent to the collector (e.g. an API key; `${ENV}` allowed). */
    headers: z.record(z.string(), z.string()).optional(),
  })
  .prefault({});

export type HistoryConfig = z.infer<typeof historyConfigSchema>;
export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;
