/**
 * @module VisionAI compat (CONTRACTS.md §5, §6.18): `POST /analyze` classifies an image with the
 * vision target of aisbf.json `visionai.target` (provider/model or rotation), asked for structured
 * output (a JSON schema of label, confidence and predictions). Answers VisionAI's shape:
 * `{"success":true,"label","confidence":0-100,"predictions":[top 5, descending]}`; errors are
 * `{"error": message}` — 400 for a missing or bad image, 500 otherwise, never a stack or a key.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import type { ChatRequest } from '../providers/provider-adapter.js';
import { ProviderError } from '../providers/provider-error.js';
import { HttpError } from '../errors/http-error.js';
import { describeProviderError } from '../routing/describe-provider-error.js';
import { readBodyText } from '../server/read-body.js';
import { requestMetaFromHttp } from '../server/request-meta-from-http.js';
import { runRequest } from '../pipeline/run-request.js';
import { redactText } from '../log.js';
import { checkImage, ImageCheckError } from '../media/image-check.js';
import { completionText } from '../glasses/cascade.js';

export const CLASSIFICATION_SCHEMA = {
  type: 'object',
  properties: {
    label: { type: 'string', description: 'The most likely label for the main subject of the image' },
    confidence: { type: 'number', description: 'Confidence in the label, 0 to 100' },
    predictions: {
      type: 'array',
      description: 'Up to 5 candidate labels, most likely first',
      items: {
        type: 'object',
        properties: { label: { type: 'string' }, confidence: { type: 'number', description: '0 to 100' } },
        required: ['label', 'confidence'],
        additionalProperties: false,
      },
    },
  },
  required: ['label', 'confidence', 'predictions'],
  additionalProperties: false,
} as const;

const INSTRUCTIONS =
  'Classify the main subject of this image. Answer with JSON only: {"label": the most likely label, "confidence": 0-100, ' +
  '"predictions": up to 5 {"label","confidence"} candidates, most likely first}. Use short common-noun labels.';

const modelAnswer = z.object({
  label: z.string().optional(),
  confidence: z.coerce.number().optional(),
  predictions: z.array(z.object({ label: z.string(), confidence: z.coerce.number() })).default([]),
});

export interface Prediction {
  label: string;
  confidence: number;
}

/** Parses the model's JSON (tolerating a code fence) into VisionAI's fields; undefined if unusable. */
export function toClassification(text: string): { label: string; confidence: number; predictions: Prediction[] } | undefined {
  const body = text.replace(/^\s*```(?:json)?\s*/i, '').replace(/\s*```\s*$/, '');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = modelAnswer.safeParse(json);
  if (!parsed.success) return undefined;
  const a = parsed.data;
  const all = [...(a.label !== undefined && a.confidence !== undefined ? [{ label: a.label, confidence: a.confidence }] : []), ...a.predictions];
  if (all.length === 0) return undefined;
  // Some models answer 0–1 despite the schema; VisionAI's scale is 0–100.
  const fractions = all.every((p) => p.confidence <= 1);
  const scale = (n: number) => Math.round(Math.min(100, Math.max(0, fractions ? n * 100 : n)) * 100) / 100;
  const seen = new Set<string>();
  const predictions = all
    .map((p) => ({ label: p.label.trim(), confidence: scale(p.confidence) }))
    .filter((p) => p.label && !seen.has(p.label.toLowerCase()) && seen.add(p.label.toLowerCase()))
    .sort((x, y) => y.confidence - x.confidence)
    .slice(0, 5);
  if (predictions.length === 0) return undefined;
  const label = a.label?.trim() || predictions[0]!.label;
  const confidence = a.confidence !== undefined ? scale(a.confidence) : predictions[0]!.confidence;
  return { label, confidence, predictions };
}

function fail(c: Context<AppEnv>, status: 400 | 500 | 502, error: string): Response {
  return c.json({ error: redactText(error) }, status);
}

export function registerVisionAIRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/analyze', async (c) => {
    const rt = deps.runtime();
    let body: unknown;
    try {
      const text = await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024);
      body = text.trim() ? JSON.parse(text) : {};
    } catch (err) {
      if (err instanceof HttpError) return c.json({ error: err.message }, 413);
      return fail(c, 400, 'Body must be JSON {"image": "<base64 or data URI>"}');
    }
    const image = (body as { image?: unknown } | null)?.image;
    if (typeof image !== 'string' || !image.trim()) return fail(c, 400, 'No image provided');
    // VisionAI strips any prefix up to the comma (a data: URI header).
    const b64 = image.includes(',') ? image.slice(image.indexOf(',') + 1) : image;
    const bytes = Buffer.from(b64.trim(), 'base64');
    let checked;
    try {
      checked = checkImage(bytes);
    } catch (err) {
      if (err instanceof ImageCheckError) return fail(c, 400, `Invalid image: ${err.message}`);
      throw err;
    }

    const cfg = rt.config.aisbf.visionai;
    if (!cfg.target) return fail(c, 500, 'No vision model configured: set "visionai": {"target": "<provider/model or rotation>"} in aisbf.json');
    const req: ChatRequest = {
      model: '',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: INSTRUCTIONS },
            { type: 'image_url', image_url: { url: `data:${checked.mime};base64,${bytes.toString('base64')}` } },
          ],
        },
      ],
      temperature: 0,
      response_format: { type: 'json_schema', json_schema: { name: 'image_classification', strict: true, schema: CLASSIFICATION_SCHEMA } },
    };
    try {
      const r = await runRequest(deps, requestMetaFromHttp(c, rt, 'visionai'), {
        kind: 'capability',
        target: { name: cfg.target },
        timeoutMs: cfg.timeout_seconds * 1000,
        call: async (cand, ctx) => {
          const completion = await cand.adapter.chat({ ...req, model: cand.model }, ctx);
          return { text: completionText(completion, cand), usage: completion.usage };
        },
        usageOf: (v) => v.usage,
        observer: c.get('reqLog'),
      });
      const result = toClassification(r.value.text);
      if (!result) return fail(c, 502, `The vision model (${r.candidate.key}) did not return a classification`);
      return c.json({ success: true, ...result, mode: 'real' });
    } catch (err) {
      if (err instanceof ProviderError) return fail(c, 500, describeProviderError(err));
      if (err instanceof HttpError) return fail(c, 500, err.message);
      deps.log.error({ err: (err as Error).message }, 'visionai /analyze failed');
      return fail(c, 500, 'Internal server error');
    }
  });
}
