import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { makeTestFrame } from '../helpers/glasses-frames.js';
import { toClassification } from '../../src/compat/visionai.js';

let upstream: FakeOpenAI;
let aisbf: TestServer;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { vis: { type: 'openai', endpoint: upstream.baseURL, api_key: 'sk-vision-server-key', models: [{ name: 'vis-1', capabilities: ['chat', 'vision'] }] } },
    aisbf: { visionai: { target: 'vis/vis-1' } },
  });
});
afterAll(async () => {
  await aisbf.close();
  await upstream.close();
});

const analyze = async (body: unknown) => {
  const res = await fetch(`${aisbf.url}/analyze`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
};

describe('POST /analyze (VisionAI)', () => {
  it('answers label, 0-100 confidence and the top 5 predictions, descending, from a structured-output call', async () => {
    upstream.enqueue({
      type: 'reply',
      text: JSON.stringify({
        label: 'tabby cat',
        confidence: 0.91,
        predictions: [
          { label: 'tiger cat', confidence: 0.05 },
          { label: 'tabby cat', confidence: 0.91 },
          { label: 'lynx', confidence: 0.01 },
          { label: 'Egyptian cat', confidence: 0.02 },
          { label: 'fox', confidence: 0.004 },
          { label: 'dog', confidence: 0.001 },
        ],
      }),
    });
    const frame = makeTestFrame(2).bytes.toString('base64');
    const r = await analyze({ image: `data:image/png;base64,${frame}` });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ success: true, label: 'tabby cat', confidence: 91 });
    expect(r.body.predictions).toEqual([
      { label: 'tabby cat', confidence: 91 },
      { label: 'tiger cat', confidence: 5 },
      { label: 'Egyptian cat', confidence: 2 },
      { label: 'lynx', confidence: 1 },
      { label: 'fox', confidence: 0.4 },
    ]);
    const sent = upstream.chatRequests().at(-1)!.body;
    expect(sent.model).toBe('vis-1');
    expect(sent.response_format.type).toBe('json_schema');
    expect(sent.response_format.json_schema.schema.required).toEqual(['label', 'confidence', 'predictions']);
    expect(sent.messages[0].content[1].image_url.url).toBe(`data:image/png;base64,${frame}`);
  });

  it('accepts bare base64 too', async () => {
    upstream.enqueue({ type: 'reply', text: '{"label":"mug","confidence":80,"predictions":[{"label":"mug","confidence":80},{"label":"cup","confidence":15}]}' });
    const r = await analyze({ image: makeTestFrame(4).bytes.toString('base64') });
    expect(r.body).toEqual({ success: true, label: 'mug', confidence: 80, predictions: [{ label: 'mug', confidence: 80 }, { label: 'cup', confidence: 15 }], mode: 'real' });
  });

  it('answers 400 {"error":"No image provided"} without an image, and 400 for bytes that are not an image', async () => {
    expect(await analyze({})).toEqual({ status: 400, body: { error: 'No image provided' } });
    expect(await analyze({ image: '' })).toEqual({ status: 400, body: { error: 'No image provided' } });
    const notImage = await analyze({ image: Buffer.from('plain text').toString('base64') });
    expect(notImage.status).toBe(400);
    expect(notImage.body.error).toMatch(/^Invalid image/);
  });

  it('answers 500 {"error"} without a stack or key when the model fails', async () => {
    upstream.enqueue({ type: 'error', status: 500, message: 'boom with sk-vision-server-key inside' });
    const r = await analyze({ image: makeTestFrame(5).bytes.toString('base64') });
    expect(r.status).toBe(500);
    expect(Object.keys(r.body)).toEqual(['error']);
    expect(r.body.error).not.toContain('sk-vision-server-key');
    expect(r.body.error).not.toMatch(/\n\s+at /);
    upstream.enqueue({ type: 'reply', text: 'I think it is a cat' });
    const prose = await analyze({ image: makeTestFrame(6).bytes.toString('base64') });
    // The upstream answered something unusable: a bad gateway, not our own failure.
    expect(prose.status).toBe(502);
    expect(prose.body.error).toMatch(/did not return a classification/);
  });
});

describe('toClassification', () => {
  it('reads fenced JSON and fills the label from the best prediction', () => {
    expect(toClassification('```json\n{"predictions":[{"label":"a","confidence":10},{"label":"b","confidence":60}]}\n```')).toEqual({
      label: 'b',
      confidence: 60,
      predictions: [
        { label: 'b', confidence: 60 },
        { label: 'a', confidence: 10 },
      ],
    });
    expect(toClassification('not json')).toBeUndefined();
  });
});
