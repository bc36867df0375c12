/**
 * @module One OCR request through the pipeline (route 'ocr': identity, limits, admission, attempts,
 * accounting): the pages are prepared once, after the request was admitted, then read by the
 * serving model with bounded parallelism. Pages a failed candidate already read are kept, so a
 * failover only sends the rest to the next one.
 */
import type { CallContext } from '../../providers/provider-adapter.js';
import { ClientGoneError } from '../../providers/deadline.js';
import type { ChatCompletion, ChatRequest, ContentPart, Usage } from '../../providers/openai-types.js';
import type { Candidate } from '../../routing/candidate.js';
import { runRequest } from '../../pipeline/run-request.js';
import type { PipelineDeps, ServedBy, SettleObserver, TargetRef } from '../../pipeline/pipeline-request.js';
import type { RequestMeta } from '../../pipeline/request-meta.js';
import type { OcrPage } from './prepare-ocr-pages.js';

export interface OcrJob {
  target: TargetRef;
  /** Prepares the pages (render, resize); called once, inside the pipeline. */
  pages(): Promise<OcrPage[]>;
  prompt: string;
  language?: string;
  parallelism: number;
  observer?: SettleObserver;
}

export interface OcrOutcome {
  pages: Array<{ page: number; text: string }>;
  served: ServedBy;
}

/** The chat request that reads one page: its images, then the prompt (OCR models expect it after). */
export function pageRequest(model: string, page: OcrPage, prompt: string, language: string | undefined): ChatRequest {
  const content: ContentPart[] = page.images.map((img) => ({ type: 'image_url', image_url: { url: `data:${img.mime};base64,${img.data.toString('base64')}` } }));
  content.push({ type: 'text', text: language ? `${prompt.trim()}\n\nThe text is in ${language}.` : prompt.trim() });
  return { model, messages: [{ role: 'user', content }], temperature: 0 };
}

function textOf(c: ChatCompletion): string {
  const content = c.choices[0]?.message.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (p.type === 'text' && typeof p.text === 'string' ? p.text : '')).join('');
  return '';
}

/** Runs `work(i)` for every index, at most `limit` at once; the first failure is thrown once all running ones ended. */
async function eachLimited(indices: number[], limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < indices.length) {
      const i = indices[next++]!;
      try {
        await work(i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, indices.length) }, lane));
  if (failure) throw failure.err;
}

interface OcrValue {
  texts: string[];
  usage: Usage;
}

export async function runOcr(deps: PipelineDeps, meta: RequestMeta, job: OcrJob): Promise<OcrOutcome> {
  let prepared: Promise<OcrPage[]> | undefined;
  const texts: Array<string | undefined> = [];
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

  const call = async (cand: Candidate, ctx: CallContext): Promise<OcrValue> => {
    const pages = await (prepared ??= job.pages()).catch((err: unknown) => {
      // A render stopped because the client left is not our failure.
      throw ctx.signal.aborted ? new ClientGoneError() : err;
    });
    const todo = pages.map((_, i) => i).filter((i) => texts[i] === undefined);
    await eachLimited(todo, job.parallelism, async (i) => {
      const done = await cand.adapter.chat(pageRequest(cand.model, pages[i]!, job.prompt, job.language), ctx);
      texts[i] = textOf(done).trim();
      if (done.usage) {
        usage.prompt_tokens += done.usage.prompt_tokens ?? 0;
        usage.completion_tokens += done.usage.completion_tokens ?? 0;
        usage.total_tokens += done.usage.total_tokens ?? 0;
      }
    });
    return { texts: texts as string[], usage };
  };

  const r = await runRequest<OcrValue>(deps, meta, { kind: 'capability', target: job.target, call, usageOf: (v) => v.usage, observer: job.observer });
  const pages = await prepared!;
  return { pages: pages.map((p, i) => ({ page: p.page, text: r.value.texts[i] ?? '' })), served: r.served };
}
