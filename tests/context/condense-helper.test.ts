import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/providers/provider-adapter.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

// Which helper model condensation asks: a rotation named by condensation.model, else the request's own model.
let main: FakeOpenAI;
let helper: FakeOpenAI;
let viaRotation: TestServer;
let viaOwn: TestServer;

const msgs: ChatMessage[] = [{ role: 'system', content: 'Be brief.' }];
for (let i = 1; i <= 6; i++) {
  msgs.push({ role: 'user', content: `Question ${i}: tell me about subject ${i} with plenty of detail please.` });
  msgs.push({ role: 'assistant', content: `Answer ${i}: subject ${i} has quite a long explanation attached to it.` });
}
msgs.push({ role: 'user', content: 'Last question?' });

const model = { name: 'conv', context_size: 300, condense_context: 50, condense_method: 'conversational' };

beforeAll(async () => {
  main = await startFakeOpenAI();
  helper = await startFakeOpenAI();
  helper.setModelBehavior('summarizer', { type: 'reply', text: 'ROTATION-SUMMARY' });
  viaRotation = await startAisbf({
    condensation: { model: 'helpers' },
    providers: {
      main: { type: 'openai', endpoint: main.baseURL, api_key: 'sk-main', models: [model] },
      helper: { type: 'openai', endpoint: helper.baseURL, api_key: 'sk-helper', models: [] },
    },
    rotations: { helpers: { providers: [{ provider_id: 'helper', models: [{ name: 'summarizer', weight: 1 }] }] } },
  });
  viaOwn = await startAisbf({
    providers: { main: { type: 'openai', endpoint: main.baseURL, api_key: 'sk-main', models: [model] } },
  });
});
afterAll(async () => {
  await viaRotation?.close();
  await viaOwn?.close();
  await main?.close();
  await helper?.close();
});

describe('condensation helper model', () => {
  it('uses the rotation named by condensation.model', async () => {
    const client = new OpenAI({ baseURL: `${viaRotation.url}/api/main`, apiKey: 'client', maxRetries: 0 });
    await client.chat.completions.create({ model: 'conv', messages: msgs as never });
    expect(helper.chatRequests()).toHaveLength(1);
    expect(helper.chatRequests()[0]!.body.model).toBe('summarizer');
    expect(main.chatRequests().at(-1)!.body.messages[1]).toEqual({ role: 'system', content: '[CONVERSATION SUMMARY]\nROTATION-SUMMARY' });
  });

  it("uses the request's own model and key when no helper is configured", async () => {
    main.requests.length = 0;
    main.enqueue({ type: 'reply', text: 'OWN-SUMMARY' });
    const client = new OpenAI({ baseURL: `${viaOwn.url}/api/main`, apiKey: 'client', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'conv', messages: msgs as never });
    const [summary, answer] = main.chatRequests();
    expect(summary!.body.model).toBe('conv');
    expect(summary!.body.temperature).toBe(0.3);
    expect(summary!.headers.authorization).toBe('Bearer sk-main');
    expect(answer!.body.messages[1]).toEqual({ role: 'system', content: '[CONVERSATION SUMMARY]\nOWN-SUMMARY' });
    expect(r.choices[0]!.message.content).toBe('echo: Last question?');
  });
});
