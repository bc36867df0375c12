/**
 * Chat `file` parts reach each provider type in its own wire shape (issue 19): OpenAI passes them
 * through, Anthropic gets `document` blocks, Gemini `inlineData`, Ollama and vision-only models the
 * pages rendered as PNG images, and a model with neither capability a 400 naming them.
 */
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { corruptPdf, twoPagePdf } from '../documents/make-documents.js';
import { documentMode } from '../../src/providers/with-documents.js';

const KEY = 'test-key-docs';
let oai: FakeOpenAI;
let ant: FakeAnthropic;
let gem: FakeGemini;
let oll: FakeOllama;
let aisbf: TestServer;
let client: OpenAI;
let pdf: Buffer;
let pdfData: string;

beforeAll(async () => {
  [oai, ant, gem, oll, pdf] = await Promise.all([
    startFakeOpenAI({ models: ['gpt-4o', 'vl-only', 'text-only'] }),
    startFakeAnthropic({ apiKey: KEY }),
    startFakeGemini({ apiKey: KEY }),
    startFakeOllama({ models: ['llava:latest'] }),
    twoPagePdf(),
  ]);
  pdfData = `data:application/pdf;base64,${pdf.toString('base64')}`;
  aisbf = await startAisbf({
    providers: {
      oai: {
        type: 'openai',
        endpoint: oai.baseURL,
        api_key: KEY,
        models: [
          { name: 'gpt-4o', capabilities: ['chat', 'vision', 'documents'] },
          { name: 'vl-only', capabilities: ['chat', 'vision'] },
          { name: 'text-only', capabilities: ['chat'] },
        ],
      },
      ant: { type: 'anthropic', endpoint: ant.endpoint, api_key: KEY, models: [{ name: 'claude-sonnet-4-5', capabilities: ['chat', 'vision', 'documents'] }] },
      gem: { type: 'google', endpoint: gem.endpoint, api_key: KEY, models: [{ name: 'gemini-2.5-flash', capabilities: ['chat', 'vision', 'documents'] }] },
      oll: { type: 'ollama', endpoint: oll.origin, api_key_required: false, models: [{ name: 'llava:latest', capabilities: ['chat', 'vision'] }] },
    },
  });
  client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf?.close();
  await Promise.all([oai?.close(), ant?.close(), gem?.close(), oll?.close()]);
});
beforeEach(() => {
  for (const f of [oai, ant, gem, oll]) f.requests.length = 0;
});

function messagesWith(file: { file_data: string; filename: string }): OpenAI.ChatCompletionMessageParam[] {
  return [{ role: 'user', content: [{ type: 'text', text: 'What does it say?' }, { type: 'file', file }] }];
}

function ask(model: string, file: { file_data: string; filename: string }) {
  return client.chat.completions.create({ model, messages: messagesWith(file) });
}

function askStream(model: string, file: { file_data: string; filename: string }) {
  return client.chat.completions.create({ model, messages: messagesWith(file), stream: true });
}

async function status(p: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as InstanceType<typeof OpenAI.APIError>;
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return { status: err.status!, code: String(err.code), message: err.message };
}

describe('chat file parts', () => {
  it('passes the file part unchanged to an OpenAI-type model that reads documents', async () => {
    await ask('oai/gpt-4o', { file_data: pdfData, filename: 'report.pdf' });
    const body = oai.chatRequests()[0]!.body;
    expect(body.messages[0].content).toEqual([
      { type: 'text', text: 'What does it say?' },
      { type: 'file', file: { file_data: pdfData, filename: 'report.pdf' } },
    ]);
  });

  it('sends Anthropic a base64 PDF document block, and a text file as a text source', async () => {
    await ask('ant/claude-sonnet-4-5', { file_data: pdfData, filename: 'report.pdf' });
    expect(ant.chatRequests()[0]!.body.messages[0].content).toEqual([
      { type: 'text', text: 'What does it say?' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') }, title: 'report.pdf' },
    ]);
    await ask('ant/claude-sonnet-4-5', { file_data: `data:text/plain;base64,${Buffer.from('plain words').toString('base64')}`, filename: 'notes.txt' });
    expect(ant.chatRequests()[1]!.body.messages[0].content[1]).toEqual({ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' }, title: 'notes.txt' });
  });

  it('sends Gemini the PDF as inline data with its mime type', async () => {
    await ask('gem/gemini-2.5-flash', { file_data: pdfData, filename: 'report.pdf' });
    const parts = gem.chatRequests()[0]!.body.contents[0].parts;
    expect(parts).toEqual([{ text: 'What does it say?' }, { inlineData: { mimeType: 'application/pdf', data: pdf.toString('base64') } }]);
  });

  it('renders the pages as PNG images for Ollama (vision, no PDF input), labelled by page', async () => {
    const reply = await ask('oll/llava:latest', { file_data: pdfData, filename: 'report.pdf' });
    expect(reply.choices[0]!.message.content).toBeTypeOf('string');
    const msg = oll.chatRequests()[0]!.body.messages[0];
    expect(msg.content).toBe('What does it say?\n[report.pdf, page 1 of 2]\n[report.pdf, page 2 of 2]');
    expect(msg.images).toHaveLength(2);
    for (const b64 of msg.images as string[]) {
      const meta = await sharp(Buffer.from(b64, 'base64')).metadata();
      // US letter at the chat long side of 1280 pixels.
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 989, 1280]);
    }
  });

  it('renders the pages for a streamed request too', async () => {
    const stream = await askStream('oll/llava:latest', { file_data: pdfData, filename: 'report.pdf' });
    for await (const _ of stream) void _;
    expect(oll.chatRequests()[0]!.body.messages[0].images).toHaveLength(2);
  });

  it('renders the pages as image_url parts for an OpenAI-type model that declares vision but not documents', async () => {
    await ask('oai/vl-only', { file_data: pdfData, filename: 'report.pdf' });
    const content = oai.chatRequests()[0]!.body.messages[0].content as Array<{ type: string; text?: string; image_url?: { url: string } }>;
    expect(content.map((p) => p.type)).toEqual(['text', 'text', 'image_url', 'text', 'image_url']);
    expect(content[1]!.text).toBe('[report.pdf, page 1 of 2]');
    expect(content[2]!.image_url!.url.startsWith('data:image/png;base64,iVBORw0KGgo')).toBe(true);
  });

  it('refuses a file for a model that declares neither documents nor vision, before any upstream call', async () => {
    const err = await status(ask('oai/text-only', { file_data: pdfData, filename: 'report.pdf' }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('unsupported_capability');
    expect(err.message).toContain("'documents'");
    expect(err.message).toContain("'vision'");
    expect(oai.chatRequests()).toHaveLength(0);
  });

  it('answers 400 naming a corrupt PDF that had to be rendered, before any upstream call', async () => {
    const err = await status(ask('oll/llava:latest', { file_data: `data:application/pdf;base64,${corruptPdf().toString('base64')}`, filename: 'bad.pdf' }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('corrupt_pdf');
    expect(oll.chatRequests()).toHaveLength(0);
  });
});

describe('documentMode', () => {
  it('reads PDFs natively where the API can, renders where it cannot, refuses without documents or vision', () => {
    expect(documentMode('anthropic', undefined)).toBe('native');
    expect(documentMode('anthropic', ['chat', 'vision'])).toBe('native');
    expect(documentMode('google', ['chat', 'documents'])).toBe('native');
    expect(documentMode('openai', undefined)).toBe('native');
    expect(documentMode('openai', ['chat', 'documents'])).toBe('native');
    expect(documentMode('openai', ['chat', 'vision'])).toBe('render');
    expect(documentMode('ollama', undefined)).toBe('render');
    expect(documentMode('ollama', ['chat', 'documents'])).toBe('render');
    expect(documentMode('huggingface', ['chat', 'vision'])).toBe('render');
    expect(documentMode('openai', ['chat'])).toBe('refuse');
    expect(documentMode('anthropic', ['chat', 'tools'])).toBe('refuse');
  });
});
