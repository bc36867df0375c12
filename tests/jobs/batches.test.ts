import OpenAI, { toFile } from 'openai';
import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let aisbf: TestServer;
let client: OpenAI;

const chatLine = (id: string, text: string, model = 'openai/gpt-4o') =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: text }] } });

async function waitFor(id: string, done = (s: string) => ['completed', 'failed', 'cancelled', 'expired'].includes(s)): Promise<OpenAI.Batch> {
  for (let i = 0; i < 400; i++) {
    const b = await client.batches.retrieve(id);
    if (done(b.status)) return b;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`batch ${id} did not finish`);
}

async function upload(text: string, name = 'in.jsonl') {
  return client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'batch' });
}

const linesOf = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l));

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-up', models: [{ name: 'gpt-4o' }, { name: 'text-embedding-3-small', capabilities: ['embeddings'] }] },
    },
    rotations: { pair: { providers: [{ provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 1 }] }] } },
    aisbf: { batches: { max_upload_mb: 0.01 } },
  });
  client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'k', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf.close();
  await fake.close();
});

describe('files and batches through the openai SDK', () => {
  it('uploads, lists, retrieves, downloads and deletes a batch file', async () => {
    const text = chatLine('a', 'hi') + '\n';
    const f = await upload(text, 'mine.jsonl');
    expect(f).toMatchObject({ object: 'file', purpose: 'batch', filename: 'mine.jsonl', bytes: text.length, status: 'processed' });
    expect(f.id).toMatch(/^file-/);
    expect((await client.files.retrieve(f.id)).id).toBe(f.id);
    const ids = [];
    for await (const x of client.files.list()) ids.push(x.id);
    expect(ids).toContain(f.id);
    expect(await (await client.files.content(f.id)).text()).toBe(text);
    expect(await client.files.delete(f.id)).toMatchObject({ id: f.id, deleted: true });
    await expect(client.files.retrieve(f.id)).rejects.toMatchObject({ status: 404 });
  });

  it('runs a batch of chat lines on a provider/model and a rotation, with outputs and errors in OpenAI line format', async () => {
    fake.setModelBehavior('gpt-4o', undefined);
    const input = [chatLine('one', 'first'), chatLine('two', 'second', 'pair'), chatLine('bad', 'third', 'nope/none')].join('\n') + '\n';
    const file = await upload(input);
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { job: 'nightly' } });
    expect(created).toMatchObject({ object: 'batch', endpoint: '/v1/chat/completions', input_file_id: file.id, completion_window: '24h', metadata: { job: 'nightly' } });
    expect(['validating', 'in_progress']).toContain(created.status);
    const b = await waitFor(created.id);
    expect(b.status).toBe('completed');
    expect(b.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(b.completed_at).toBeGreaterThan(0);
    const out = linesOf(await (await client.files.content(b.output_file_id!)).text());
    expect(out.map((l) => l.custom_id).sort()).toEqual(['one', 'two']);
    const one = out.find((l) => l.custom_id === 'one');
    expect(one.id).toMatch(/^batch_req_/);
    expect(one.error).toBeNull();
    expect(one.response.status_code).toBe(200);
    expect(one.response.body.choices[0].message.content).toBe('echo: first');
    const errs = linesOf(await (await client.files.content(b.error_file_id!)).text());
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatchObject({ custom_id: 'bad', response: { status_code: 400 } });
    expect(errs[0].response.body.error.message).toBeTruthy();
    // Lines ran at low priority through the pipeline: the fake saw both good ones, with our own key.
    expect(fake.chatRequests().filter((r) => ['first', 'second'].includes(r.body.messages[0].content))).toHaveLength(2);
    const listed = await client.batches.list({ limit: 5 });
    expect(listed.data.map((x) => x.id)).toContain(b.id);
  });

  it('runs a batch created on /api/{provider}: lines name the model only', async () => {
    const onBase = new OpenAI({ baseURL: `${aisbf.url}/api/openai`, apiKey: 'k', maxRetries: 0 });
    const file = await onBase.files.create({ file: await toFile(Buffer.from(chatLine('p1', 'on base', 'gpt-4o')), 'p.jsonl'), purpose: 'batch' });
    const created = await onBase.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const b = await waitFor(created.id);
    expect(b.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    const out = linesOf(await (await onBase.files.content(b.output_file_id!)).text());
    expect(out[0].response.body.choices[0].message.content).toBe('echo: on base');
  });

  it('runs embeddings lines', async () => {
    const line = JSON.stringify({ custom_id: 'e1', method: 'POST', url: '/v1/embeddings', body: { model: 'openai/text-embedding-3-small', input: 'hello' } });
    const file = await upload(line + '\n');
    const b = await waitFor((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' })).id);
    expect(b.status).toBe('completed');
    const out = linesOf(await (await client.files.content(b.output_file_id!)).text());
    expect(out[0].response.body.object).toBe('list');
    expect(out[0].response.body.data[0].embedding.length).toBeGreaterThan(0);
  });

  it('runs Responses API lines', async () => {
    const line = JSON.stringify({ custom_id: 'r1', method: 'POST', url: '/v1/responses', body: { model: 'openai/gpt-4o', input: 'respond please', store: false } });
    const file = await upload(line + '\n');
    const b = await waitFor((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/responses', completion_window: '24h' })).id);
    expect(b.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    const out = linesOf(await (await client.files.content(b.output_file_id!)).text());
    expect(out[0].response.body.object).toBe('response');
    expect(out[0].response.body.output_text ?? JSON.stringify(out[0].response.body.output)).toContain('echo: respond please');
  });

  it('retries a provider failure and never a client error', async () => {
    const before = fake.chatRequests().length;
    fake.enqueue({ type: 'error', status: 503, message: 'busy' }, { type: 'reply', text: 'after retry' });
    const file = await upload(chatLine('r', 'retry me') + '\n');
    const b = await waitFor((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    expect(b.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    expect(fake.chatRequests().length - before).toBe(2);
    const out = linesOf(await (await client.files.content(b.output_file_id!)).text());
    expect(out[0].response.body.choices[0].message.content).toBe('after retry');

    const n = fake.chatRequests().length;
    fake.enqueue({ type: 'error', status: 400, message: 'bad request upstream', code: 'invalid_value' });
    const f2 = await upload(chatLine('c', 'client error') + '\n');
    const b2 = await waitFor((await client.batches.create({ input_file_id: f2.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    expect(b2.request_counts).toEqual({ total: 1, completed: 0, failed: 1 });
    expect(fake.chatRequests().length - n).toBe(1);
  });

  it('fails validation with OpenAI errors naming the lines: bad JSON, duplicate custom_id, url mismatch; nothing runs', async () => {
    const before = fake.chatRequests().length;
    const input = [chatLine('x', 'a'), '{not json', chatLine('x', 'b'), JSON.stringify({ custom_id: 'y', method: 'POST', url: '/v1/embeddings', body: { input: 'a' } })].join('\n');
    const file = await upload(input);
    expect(file.status).toBe('error');
    expect(file.status_details).toContain('Line 2');
    const b = await waitFor((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    expect(b.status).toBe('failed');
    expect(b.errors!.object).toBe('list');
    expect(b.errors!.data).toEqual([
      { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: 2 },
      expect.objectContaining({ code: 'duplicate_custom_id', param: 'custom_id', line: 3 }),
      expect.objectContaining({ code: 'url_mismatch', param: 'url', line: 4 }),
    ]);
    expect(b.failed_at).toBeGreaterThan(0);
    expect(fake.chatRequests().length).toBe(before);
  });

  it('fails a non-JSON file line by line', async () => {
    const file = await upload('just some text\nmore text\n', 'notes.txt');
    const b = await waitFor((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    expect(b.status).toBe('failed');
    expect(b.errors!.data!.map((e) => [e.code, e.line])).toEqual([
      ['invalid_json_line', 1],
      ['invalid_json_line', 2],
    ]);
  });

  it('refuses an upload over the limit with 413 and leaves no file behind', async () => {
    const dir = join(aisbf.configDir, 'files');
    const before = existsSync(dir) ? readdirSync(dir).length : 0;
    const big = (chatLine('big', 'x'.repeat(200)) + '\n').repeat(100); // ~25 kB > 0.01 MB
    await expect(upload(big)).rejects.toMatchObject({ status: 413 });
    expect(readdirSync(dir).length).toBe(before);
  });

  it('refuses to cancel a finished batch with 400, and cancels a running one', async () => {
    const file = await upload(chatLine('z', 'quick') + '\n');
    const b = await waitFor((await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id);
    await expect(client.batches.cancel(b.id)).rejects.toMatchObject({ status: 400, message: expect.stringContaining("Cannot cancel a batch with status 'completed'") });

    fake.setModelBehavior('gpt-4o', { type: 'reply', text: 'slow', headerDelayMs: 300 });
    const many = Array.from({ length: 20 }, (_, i) => chatLine(`s${i}`, `slow ${i}`)).join('\n');
    const f2 = await upload(many);
    const running = await client.batches.create({ input_file_id: f2.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await waitFor(running.id, (s) => s === 'in_progress');
    const c = await client.batches.cancel(running.id);
    expect(['cancelling', 'cancelled']).toContain(c.status);
    const done = await waitFor(running.id);
    fake.setModelBehavior('gpt-4o', undefined);
    expect(done.status).toBe('cancelled');
    expect(done.cancelled_at).toBeGreaterThan(0);
    expect(done.request_counts!.completed).toBeLessThan(20);
  });

  it('fails a batch clearly when the disk is full while writing its output, keeping the finished lines', async () => {
    fake.setModelBehavior('gpt-4o', { type: 'reply', text: 'kept', headerDelayMs: 150 });
    const file = await upload([chatLine('k1', 'one'), chatLine('k2', 'two')].join('\n'));
    const b = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await waitFor(b.id, (s) => s === 'in_progress');
    // The output file's place points at /dev/full: every write there fails with ENOSPC, as on a full disk.
    symlinkSync('/dev/full', join(aisbf.configDir, 'files', `${b.id}_output.jsonl`));
    const done = await waitFor(b.id);
    fake.setModelBehavior('gpt-4o', undefined);
    expect(done.status).toBe('failed');
    expect(done.errors!.data![0]).toMatchObject({ code: 'output_write_failed', message: expect.stringContaining('ENOSPC') });
    expect(done.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
    expect(done.output_file_id).toBeNull();
  });
});
