/**
 * @module POST /api/ocr (CONTRACTS §7.9 item 37, the seed's OCR done properly): an image or PDF in,
 * its text out as `{"text","pages":[{"page","text"}],"model","resolution","processing_time"}`.
 * Input checks (size, sniffed type, resolution) answer before the pipeline; rendering and the model
 * calls run inside it (route 'ocr').
 */
import type { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../server/app-env.js';
import { headerOf } from '../../server/node-request.js';
import { requestMetaFromHttp } from '../../server/request-meta-from-http.js';
import { servedHeaders } from '../../inbound/served-headers.js';
import { OCR_DEFAULTS } from '../../config/ocr-config.js';
import { parseOcrInput } from './parse-ocr-input.js';
import { parseResolution, RESOLUTION_PLANS } from './ocr-resolution.js';
import { ocrTarget } from './ocr-target.js';
import { prepareOcrPages } from './prepare-ocr-pages.js';
import { runOcr } from './run-ocr.js';
import { toAbortSignal } from '../../providers/lite-abort.js';

export function registerOcrRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/api/ocr', async function ocr(c) {
    const started = performance.now();
    const rt = deps.runtime();
    const cfg = rt.config.aisbf.ocr ?? OCR_DEFAULTS;
    const resolution = parseResolution(headerOf(c, 'x-resolution'), cfg.default_resolution);
    const meta = requestMetaFromHttp(c, rt, 'ocr');
    const input = await parseOcrInput(c.req.raw, Math.round(cfg.max_mb * 1024 * 1024));
    const target = ocrTarget(rt, input.model, cfg.target);
    const plan = RESOLUTION_PLANS[resolution];
    const out = await runOcr(deps, meta, {
      target,
      pages: () => prepareOcrPages(input.documents, { plan, maxPages: cfg.max_pages, maxPixels: cfg.max_pixels, signal: toAbortSignal(meta.signal) }),
      prompt: rt.config.ocrPrompt,
      language: input.language,
      parallelism: cfg.parallelism,
      observer: c.get('reqLog'),
    });
    const body = {
      text: out.pages.map((p) => p.text).join('\n\n'),
      pages: out.pages,
      model: `${out.served.providerId}/${out.served.model}`,
      resolution,
      processing_time: Math.round(performance.now() - started) / 1000,
    };
    return c.json(body, 200, servedHeaders(out.served));
  });
}
