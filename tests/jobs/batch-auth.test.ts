/**
 * Batches with auth on: files and batches belong to the key that made them, and the lines run as that
 * key (its model scope applies to every line).
 */
import OpenAI, { toFile } from 'openai';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/store/db.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { UserStore } from '../../src/store/users.js';
import { createApiKey } from '../../src/identity/api-keys.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let aisbf: TestServer;
let db: Db;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { up: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-up', models: [{ name: 'gpt-4o' }, { name: 'gpt-4o-mini' }] } },
    aisbf: { auth: { enabled: true } },
  });
  db = openDatabase(join(aisbf.configDir, 'aisbf.db'));
});
afterAll(async () => {
  db.close();
  await aisbf.close();
  await fake.close();
});

const sdk = (apiKey: string) => new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey, maxRetries: 0 });
const line = (id: string, model: string) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: id }] } });

describe('batches with auth on', () => {
  it("keeps each key's files and batches to itself and runs the lines inside the key's model scope", async () => {
    const keys = new ApiKeyStore(db);
    const users = new UserStore(db);
    const alice = sdk(createApiKey(keys, users, { name: 'alice', models: ['up/gpt-4o'] }).key);
    const bob = sdk(createApiKey(keys, users, { name: 'bob' }).key);
    await expect(sdk('sk-aisbf-wrong').files.list()).rejects.toMatchObject({ status: 401 });

    const file = await alice.files.create({ file: await toFile(Buffer.from([line('in-scope', 'up/gpt-4o'), line('out-of-scope', 'up/gpt-4o-mini')].join('\n')), 'a.jsonl'), purpose: 'batch' });
    await expect(bob.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    await expect(bob.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).rejects.toMatchObject({ status: 404 });
    const created = await alice.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await expect(bob.batches.retrieve(created.id)).rejects.toMatchObject({ status: 404 });
    expect((await bob.batches.list()).data).toEqual([]);

    let b = await alice.batches.retrieve(created.id);
    for (let i = 0; i < 200 && b.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      b = await alice.batches.retrieve(created.id);
    }
    expect(b.request_counts).toEqual({ total: 2, completed: 1, failed: 1 });
    const errors = (await (await alice.files.content(b.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(errors[0]).toMatchObject({ custom_id: 'out-of-scope', response: { status_code: 403, body: { error: { code: 'model_not_allowed' } } } });
    expect(fake.chatRequests().map((r) => r.body.messages[0].content)).toEqual(['in-scope']);
    await expect(bob.files.content(b.output_file_id!)).rejects.toMatchObject({ status: 404 });
  });
});
