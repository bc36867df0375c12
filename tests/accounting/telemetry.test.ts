import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { sendJson, startFakeServer, type FakeServer } from '../fakes/fake-server.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

/** A tiny OTLP/HTTP (JSON) trace receiver: records each export body. */
let collector: FakeServer;
let fake: FakeOpenAI;
let aisbf: TestServer;

beforeAll(async () => {
  collector = await startFakeServer((_req, res) => sendJson(res, 200, {}));
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-otel-1234567890', models: [{ name: 'gpt-4o', price: { input_per_mtok: 1, output_per_mtok: 1 } }] } },
    aisbf: { telemetry: { otlp_endpoint: `${collector.origin}/v1/traces`, service_name: 'aisbf-test', headers: { 'x-collector-key': 'k1' } } },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
  await collector?.close();
});

type Attr = { key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number } };
function attrs(list: Attr[]): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.boolValue ?? a.value.doubleValue)]));
}

describe('OpenTelemetry export', () => {
  it('sends one span per request with the GenAI semantic-convention attributes', async () => {
    fake.enqueue({ type: 'reply', text: 'traced', usage: { prompt_tokens: 42, completion_tokens: 7 } });
    const r = await fetch(`${aisbf.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'otel-1' }, body: JSON.stringify({ model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(r.status).toBe(200);
    await aisbf.running.deps.accounting!.stage.flushTelemetry();
    await expect.poll(() => collector.requests.length, { timeout: 5000 }).toBeGreaterThan(0);

    const req = collector.requests[0]!;
    expect(req.path).toBe('/v1/traces');
    expect(req.headers['content-type']).toContain('application/json');
    expect(req.headers['x-collector-key']).toBe('k1');
    const rs = req.body.resourceSpans[0];
    expect(attrs(rs.resource.attributes)['service.name']).toBe('aisbf-test');
    const spans = rs.scopeSpans.flatMap((s: any) => s.spans);
    expect(spans).toHaveLength(1);
    const span = spans[0];
    expect(span.name).toBe('chat gpt-4o');
    expect(attrs(span.attributes)).toMatchObject({
      'gen_ai.system': 'openai',
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'openai/gpt-4o',
      'gen_ai.response.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 42,
      'gen_ai.usage.output_tokens': 7,
      'aisbf.request_id': 'otel-1',
      'http.response.status_code': 200,
    });
    // The span covers the request: it ends after it starts.
    expect(BigInt(span.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(span.startTimeUnixNano));
  });
});
