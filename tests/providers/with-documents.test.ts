/**
 * Chat `file` parts reach each provider type in its own wire shape (issue 19): OpenAI passes them
 * through, Anthropic gets `document` blocks, Gemini `inlineData`, Ollama and vision-only models the
 * pages rendered as PNG images, and a model with neither capability a 400 naming them. Every file is
 * held to aisbf.json `ocr` limits (here 2 pages, 1 MB) and sniffed before any upstream call.
 */
import OpenAI from 'openai';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama-upstream.js';
import { startFakeHuggingFace, type FakeHuggingFace } from '../fakes/huggingface-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { bmpImage, corruptPdf, encryptedPdf, pngBomb, pngImage, textPdf, twoPagePdf } from '../documents/make-documents.js';
import { documentMode } from '../../src/providers/with-documents.js';

const KEY = 'test-key-docs';
let oai: FakeOpenAI;
let ant: FakeAnthropic;
let gem: FakeGemini;
let oll: FakeOllama;
let hf: FakeHuggingFace;
let aisbf: TestServer;
let client: OpenAI;
let pdf: Buffer;
let pdfData: string;
/** Made once: deflating 30000 rows takes seconds on a loaded machine. */
let bombData: string;

beforeAll(async () => {
  [oai, ant, gem, oll, hf, pdf] = await Promise.all([
    startFakeOpenAI({ models: ['gpt-4o', 'vl-only', 'text-only'] }),
    startFakeAnthropic({ apiKey: KEY }),
    startFakeGemini({ apiKey: KEY }),
    startFakeOllama({ models: ['llava:latest'] }),
    startFakeHuggingFace({ models: ['Qwen/Qwen2.5-VL-7B-Instruct'] }),
    twoPagePdf(),
  ]);
  pdfData = `data:application/pdf;base64,${pdf.toString('base64')}`;
  bombData = `data:image/png;base64,${(await pngBomb()).toString('base64')}`;
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
      ant: {
        type: 'anthropic',
        endpoint: ant.endpoint,
        api_key: KEY,
        models: [
          { name: 'claude-sonnet-4-6', capabilities: ['chat', 'vision', 'documents'] },
          { name: 'claude-haiku-4-5', capabilities: ['chat', 'vision'] },
        ],
      },
      gem: {
        type: 'google',
        endpoint: gem.endpoint,
        api_key: KEY,
        models: [
          { name: 'gemini-2.5-flash', capabilities: ['chat', 'vision', 'documents'] },
          { name: 'gemini-2.0-flash', capabilities: ['chat', 'vision'] },
        ],
      },
      oll: { type: 'ollama', endpoint: oll.origin, api_key_required: false, models: [{ name: 'llava:latest', capabilities: ['chat', 'vision'] }] },
      hf: { type: 'huggingface', endpoint: hf.baseURL, api_key: 'hf_testTokenAbCdEf0123456789', models: [{ name: 'Qwen/Qwen2.5-VL-7B-Instruct', capabilities: ['chat', 'vision'] }] },
    },
    rotations: {
      // The text-only member comes first: it must be passed over for the one that reads the file.
      mixed: {
        model_name: 'mixed',
        strategy: 'priority',
        providers: [{ provider_id: 'oai', models: [{ name: 'text-only', weight: 1 }, { name: 'vl-only', weight: 1 }] }],
      },
      blind: { model_name: 'blind', providers: [{ provider_id: 'oai', models: [{ name: 'text-only', weight: 1 }] }] },
    },
    aisbf: { ocr: { max_pages: 2, max_mb: 1 } },
  });
  client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf?.close();
  await Promise.all([oai?.close(), ant?.close(), gem?.close(), oll?.close(), hf?.close()]);
});
beforeEach(() => {
  for (const f of [oai, ant, gem, oll, hf]) f.requests.length = 0;
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

async function status(p: Promise<unknown>): Promise<{ status: number; code: string; param: string | null; message: string }> {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as InstanceType<typeof OpenAI.APIError>;
  expect(err).toBeInstanceOf(OpenAI.APIError);
  return { status: err.status!, code: String(err.code), param: err.param ?? null, message: err.message };
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
    await ask('ant/claude-sonnet-4-6', { file_data: pdfData, filename: 'report.pdf' });
    expect(ant.chatRequests()[0]!.body.messages[0].content).toEqual([
      { type: 'text', text: 'What does it say?' },
      { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') }, title: 'report.pdf' },
    ]);
    await ask('ant/claude-sonnet-4-6', { file_data: `data:text/plain;base64,${Buffer.from('plain words').toString('base64')}`, filename: 'notes.txt' });
    expect(ant.chatRequests()[1]!.body.messages[0].content[1]).toEqual({ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain words' }, title: 'notes.txt' });
  });

  it('sends Gemini the PDF as inline data with its mime type', async () => {
    await ask('gem/gemini-2.5-flash', { file_data: pdfData, filename: 'report.pdf' });
    const parts = gem.chatRequests()[0]!.body.contents[0].parts;
    expect(parts).toEqual([{ text: 'What does it say?' }, { inlineData: { mimeType: 'application/pdf', data: pdf.toString('base64') } }]);
  });

  it('renders the pages as image blocks for an Anthropic model that declares vision but not documents', async () => {
    await ask('ant/claude-haiku-4-5', { file_data: pdfData, filename: 'report.pdf' });
    const content = ant.chatRequests()[0]!.body.messages[0].content as Array<{ type: string; text?: string; source?: { type: string; media_type: string; data: string } }>;
    expect(content.map((b) => b.type)).toEqual(['text', 'text', 'image', 'text', 'image']);
    expect(content[3]!.text).toBe('[report.pdf, page 2 of 2]');
    expect(content[2]!.source!.media_type).toBe('image/png');
    const meta = await sharp(Buffer.from(content[2]!.source!.data, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 989, 1280]);
  });

  it('renders the pages as inline PNGs for a Gemini model that declares vision but not documents', async () => {
    await ask('gem/gemini-2.0-flash', { file_data: pdfData, filename: 'report.pdf' });
    const parts = gem.chatRequests()[0]!.body.contents[0].parts as Array<{ text?: string; inlineData?: { mimeType: string } }>;
    expect(parts.map((p) => p.text ?? p.inlineData!.mimeType)).toEqual(['What does it say?', '[report.pdf, page 1 of 2]', 'image/png', '[report.pdf, page 2 of 2]', 'image/png']);
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

  it('renders the pages as image_url parts for a Hugging Face vision model', async () => {
    await ask('hf/Qwen/Qwen2.5-VL-7B-Instruct', { file_data: pdfData, filename: 'report.pdf' });
    const content = hf.chatRequests()[0]!.body.messages[0].content as Array<{ type: string; text?: string; image_url?: { url: string } }>;
    expect(content.map((p) => p.type)).toEqual(['text', 'text', 'image_url', 'text', 'image_url']);
    const meta = await sharp(Buffer.from(content[4]!.image_url!.url.split(',')[1]!, 'base64')).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 989, 1280]);
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

describe('chat file parts: limits and bad input (nothing reaches an upstream)', () => {
  afterEach(() => {
    for (const f of [oai, ant, gem, oll, hf]) expect(f.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('refuses a PDF over ocr.max_pages, whether the model reads it natively or gets it rendered', async () => {
    const three = `data:application/pdf;base64,${(await textPdf(['a', 'b', 'c'])).toString('base64')}`;
    for (const model of ['oai/gpt-4o', 'ant/claude-sonnet-4-6', 'oll/llava:latest']) {
      const err = await status(ask(model, { file_data: three, filename: 'long.pdf' }));
      expect([err.status, err.code, err.param]).toEqual([400, 'too_many_pages', 'messages[0].content[1].file.file_data']);
      expect(err.message).toContain('3 pages');
      expect(err.message).toContain('ocr.max_pages');
    }
  });

  it('answers 413 naming the field for a file over ocr.max_mb', async () => {
    const big = Buffer.concat([pdf, Buffer.alloc(1024 * 1024)]);
    for (const model of ['oai/gpt-4o', 'oll/llava:latest']) {
      const err = await status(ask(model, { file_data: `data:application/pdf;base64,${big.toString('base64')}`, filename: 'big.pdf' }));
      expect([err.status, err.code, err.param]).toEqual([413, 'file_too_large', 'messages[0].content[1].file.file_data']);
      expect(err.message).toContain('ocr.max_mb');
    }
  });

  it('names an encrypted or corrupt PDF even for a model that would read it natively', async () => {
    const enc = await status(ask('ant/claude-sonnet-4-6', { file_data: `data:application/pdf;base64,${encryptedPdf().toString('base64')}`, filename: 'locked.pdf' }));
    expect([enc.status, enc.code]).toEqual([400, 'encrypted_pdf']);
    const bad = await status(ask('oai/gpt-4o', { file_data: `data:application/pdf;base64,${corruptPdf().toString('base64')}`, filename: 'bad.pdf' }));
    expect([bad.status, bad.code]).toEqual([400, 'corrupt_pdf']);
  });

  it('refuses bytes that contradict the declared type, and bytes of no supported type', async () => {
    const png = (await pngImage(20, 20)).toString('base64');
    const mismatch = await status(ask('gem/gemini-2.5-flash', { file_data: `data:application/pdf;base64,${png}`, filename: 'fake.pdf' }));
    expect([mismatch.status, mismatch.code, mismatch.param]).toEqual([400, 'file_type_mismatch', 'messages[0].content[1].file.file_data']);
    const zip = Buffer.from('PK\x03\x04 not a document', 'latin1').toString('base64');
    const unknown = await status(ask('ant/claude-sonnet-4-6', { file_data: `data:application/octet-stream;base64,${zip}`, filename: 'a.zip' }));
    expect([unknown.status, unknown.code]).toEqual([400, 'unsupported_file_type']);
  });

  it('refuses a 30000×30000 image bomb in a file part from its header', async () => {
    const err = await status(ask('oll/llava:latest', { file_data: bombData, filename: 'bomb.png' }));
    expect([err.status, err.code, err.param]).toEqual([400, 'image_too_large', 'messages[0].content[1].file.file_data']);
  });

  it('refuses a file_id aisbf does not know for a model that cannot take OpenAI file ids', async () => {
    const res = await fetch(`${aisbf.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oll/llava:latest', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-nope' } }] }] }),
    });
    const body = (await res.json()) as { error: { code: string; param: string } };
    expect([res.status, body.error.code, body.error.param]).toEqual([400, 'invalid_file_id', 'messages[0].content[0].file.file_id']);
  });

  it('refuses a rotation none of whose members reads files', async () => {
    const err = await status(ask('blind', { file_data: pdfData, filename: 'report.pdf' }));
    expect([err.status, err.code]).toEqual([400, 'unsupported_capability']);
    expect(err.message).toContain("'documents'");
  });
});

describe('chat file parts: what is normalised on the way', () => {
  it('sends a PDF declared as octet-stream with its true type', async () => {
    await ask('ant/claude-sonnet-4-6', { file_data: `data:application/octet-stream;base64,${pdf.toString('base64')}`, filename: 'x.bin' });
    expect(ant.chatRequests()[0]!.body.messages[0].content[1]).toMatchObject({ type: 'document', source: { type: 'base64', media_type: 'application/pdf' } });
  });

  it('sends a text file to Gemini as inline text/plain, and to an OpenAI model as a text part', async () => {
    const notes = `data:text/markdown;base64,${Buffer.from('# Notes\nplain words').toString('base64')}`;
    await ask('gem/gemini-2.5-flash', { file_data: notes, filename: 'notes.md' });
    expect(gem.chatRequests()[0]!.body.contents[0].parts[1]).toEqual({ inlineData: { mimeType: 'text/plain', data: Buffer.from('# Notes\nplain words').toString('base64') } });
    await ask('oai/gpt-4o', { file_data: notes, filename: 'notes.md' });
    expect(oai.chatRequests()[0]!.body.messages[0].content[1]).toEqual({ type: 'text', text: '--- notes.md ---\n# Notes\nplain words\n--- end of notes.md ---' });
  });

  it('sends an image file as an image part (a BMP converted to PNG)', async () => {
    await ask('oai/gpt-4o', { file_data: `data:image/bmp;base64,${bmpImage(40, 20).toString('base64')}`, filename: 'scan.bmp' });
    const part = oai.chatRequests()[0]!.body.messages[0].content[1] as { type: string; image_url: { url: string } };
    expect(part.type).toBe('image_url');
    const meta = await sharp(Buffer.from(part.image_url.url.split(',')[1]!, 'base64')).metadata();
    expect(meta.format).toBe('png');
  });

  it('passes a rotation over its text-only member to the one that reads the file', async () => {
    await ask('mixed', { file_data: pdfData, filename: 'report.pdf' });
    const bodies = oai.chatRequests().map((r) => r.body);
    expect(bodies.map((b) => b.model)).toEqual(['vl-only']);
    expect((bodies[0]!.messages[0].content as Array<{ type: string }>).map((p) => p.type)).toEqual(['text', 'text', 'image_url', 'text', 'image_url']);
  });

  it("passes a file_id aisbf does not know to an OpenAI model unchanged (it may be OpenAI's own)", async () => {
    await client.chat.completions.create({ model: 'oai/gpt-4o', messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-openai-own' } }] }] });
    expect(oai.chatRequests()[0]!.body.messages[0].content).toEqual([{ type: 'file', file: { file_id: 'file-openai-own' } }]);
  });
});

describe('documentMode', () => {
  it('reads PDFs natively where the model declares documents and the API can, renders for vision only, refuses without either', () => {
    expect(documentMode('anthropic', undefined)).toBe('native');
    expect(documentMode('anthropic', ['chat', 'documents'])).toBe('native');
    expect(documentMode('anthropic', ['chat', 'vision'])).toBe('render');
    expect(documentMode('google', ['chat', 'vision'])).toBe('render');
    expect(documentMode('google', undefined)).toBe('native');
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
