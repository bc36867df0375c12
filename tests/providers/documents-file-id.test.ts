/**
 * Chat `file_id` parts (issue 19): a PDF uploaded with the openai SDK's `files.create` (purpose
 * `user_data`) is read from aisbf's file store and reaches each provider inline, in its own shape —
 * for its uploader only, and within the `ocr` size limit.
 */
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { twoPagePdf } from '../documents/make-documents.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { ApiKeyStore } from '../../src/store/api-keys.js';
import { UserStore } from '../../src/store/users.js';
import { createApiKey } from '../../src/identity/api-keys.js';

const KEY = 'test-key-file-id';
let ant: FakeAnthropic;
let oll: FakeOllama;
let aisbf: TestServer;
let db: Db;
let owner: OpenAI;
let stranger: OpenAI;
let pdf: Buffer;
let fileId: string;

beforeAll(async () => {
  [ant, oll, pdf] = await Promise.all([startFakeAnthropic({ apiKey: KEY }), startFakeOllama({ models: ['llava:latest'] }), twoPagePdf()]);
  aisbf = await startAisbf({
    providers: {
      ant: { type: 'anthropic', endpoint: ant.endpoint, api_key: KEY, models: [{ name: 'claude-sonnet-4-6', capabilities: ['chat', 'vision', 'documents'] }] },
      oll: { type: 'ollama', endpoint: oll.origin, api_key_required: false, models: [{ name: 'llava:latest', capabilities: ['chat', 'vision'] }] },
    },
    aisbf: { auth: { enabled: true, tokens: ['static-admin-token'] }, ocr: { max_mb: 1 } },
  });
  db = openDatabase(join(aisbf.configDir, 'aisbf.db'));
  const keys = new ApiKeyStore(db);
  const users = new UserStore(db);
  const sdk = (name: string) => new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: createApiKey(keys, users, { name }).key, maxRetries: 0 });
  owner = sdk('uploader');
  stranger = sdk('someone-else');
  const file = await owner.files.create({ file: await toFile(pdf, 'report.pdf', { type: 'application/pdf' }), purpose: 'user_data' });
  expect([file.purpose, file.bytes, file.filename]).toEqual(['user_data', pdf.length, 'report.pdf']);
  fileId = file.id;
});
afterAll(async () => {
  db?.close();
  await aisbf?.close();
  await Promise.all([ant?.close(), oll?.close()]);
});
beforeEach(() => {
  ant.requests.length = 0;
  oll.requests.length = 0;
});

function askWith(client: OpenAI, model: string, id: string) {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: [{ type: 'text', text: 'Summarise' }, { type: 'file', file: { file_id: id } }] }] });
}

async function failure(p: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return err as InstanceType<typeof OpenAI.APIError>;
}

describe('chat file_id parts', () => {
  it('sends Anthropic the uploaded PDF as a base64 document block titled with its file name', async () => {
    await askWith(owner, 'ant/claude-sonnet-4-6', fileId);
    expect(ant.chatRequests()[0]!.body.messages[0].content).toEqual([
      { type: 'text', text: 'Summarise' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') }, title: 'report.pdf' },
    ]);
  });

  it('renders the uploaded PDF for a vision-only model', async () => {
    await askWith(owner, 'oll/llava:latest', fileId);
    const msg = oll.chatRequests()[0]!.body.messages[0];
    expect(msg.content).toBe('Summarise\n[report.pdf, page 1 of 2]\n[report.pdf, page 2 of 2]');
    const meta = await sharp(Buffer.from(msg.images[0] as string, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 989, 1280]);
  });

  it('reads an input_file file_id sent to the Responses API (translated for Anthropic)', async () => {
    await owner.responses.create({
      model: 'ant/claude-sonnet-4-6',
      store: false,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Summarise' }, { type: 'input_file', file_id: fileId }] }],
    });
    expect(ant.chatRequests()[0]!.body.messages[0].content[1]).toEqual({
      type: 'document',
      source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') },
      title: 'report.pdf',
    });
  });

  it("does not let another key use someone's upload, nor an id that does not exist", async () => {
    for (const id of [fileId, 'file-000000000000000000000000']) {
      const err = await failure(askWith(stranger, 'ant/claude-sonnet-4-6', id));
      expect([err.status, err.code, err.param]).toEqual([400, 'invalid_file_id', 'messages[0].content[1].file.file_id']);
    }
    expect(ant.chatRequests()).toHaveLength(0);
  });

  it('answers 413 for an upload over ocr.max_mb, before reading it', async () => {
    const big = await owner.files.create({ file: await toFile(Buffer.concat([pdf, Buffer.alloc(1024 * 1024)]), 'big.pdf'), purpose: 'user_data' });
    const err = await failure(askWith(owner, 'ant/claude-sonnet-4-6', big.id));
    expect([err.status, err.code, err.param]).toEqual([413, 'file_too_large', 'messages[0].content[1].file.file_id']);
    expect(ant.chatRequests()).toHaveLength(0);
  });
});
