import { describe, expect, it } from 'vitest';
import { historyConfigSchema, telemetryConfigSchema } from '../../src/config/accounting-config.js';

describe('history and telemetry config', () => {
  it('defaults to 15 days of history and no telemetry', () => {
    expect(historyConfigSchema.parse(undefined)).toEqual({ retention_days: 15 });
    expect(telemetryConfigSchema.parse(undefined)).toEqual({ service_name: 'aisbf' });
  });

  it('refuses unknown keys, a non-positive retention and a non-http endpoint', () => {
    expect(historyConfigSchema.safeParse({ retention_day: 3 }).success).toBe(false);
    expect(historyConfigSchema.safeParse({ retention_days: 0 }).success).toBe(false);
    expect(telemetryConfigSchema.safeParse({ endpoint: 'http://x' }).success).toBe(false);
    const bad = telemetryConfigSchema.safeParse({ otlp_endpoint: 'grpc://collector:4317' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.message).toContain('http(s) URL');
    expect(telemetryConfigSchema.parse({ otlp_endpoint: 'http://127.0.0.1:4318/v1/traces', headers: { 'x-k': 'v' } })).toMatchObject({ otlp_endpoint: 'http://127.0.0.1:4318/v1/traces', headers: { 'x-k': 'v' } });
  });
});
