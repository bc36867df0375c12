/**
 * @module Image generation and edits on Google. Imagen models (`imagen-*`) are called on
 * `POST /v1beta/models/{model}:predict` with `{instances:[{prompt}], parameters:{sampleCount,
 * aspectRatio}}` → `{predictions:[{bytesBase64Encoded, mimeType}]}` — a raw REST call, because
 * `@google/genai` 2.32's `models.generateImages` refuses to run outside Vertex. Gemini image models
 * (`gemini-*-image*`) are called through the SDK's `generateContent` with `responseModalities: IMAGE`
 * and answer `inlineData` parts; they also serve edits (the image travels as an inlineData part
 * before the instruction). Both answer OpenAI's ImageResult with `b64_json`.
 */
import type { GenerateContentResponse, Part } from '@google/genai';
import { withDeadline } from '../deadline.js';
import type { CallContext, ImageEditRequest, ImageRequest, ImageResult } from '../provider-adapter.js';
import { mapGeminiError } from './map-gemini-error.js';
import { aspectRatioOf, badRequest, checkGeminiModel, malformed, postGeminiJson, type GeminiMediaContext } from './gemini-media.js';

const IMAGEN_RATIOS = ['1:1', '3:4', '4:3', '9:16', '16:9'] as const;
const GEMINI_IMAGE_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;

interface Image {
  b64: string;
  mimeType: string;
}

function isImagen(model: string): boolean {
  return /^imagen-/i.test(model);
}

function toResult(images: Image[], format: ImageRequest['response_format']): ImageResult {
  return {
    created: Math.floor(Date.now() / 1000),
    data: images.map((i) => (format === 'url' ? { url: `data:${i.mimeType};base64,${i.b64}` } : { b64_json: i.b64 })),
  };
}

async function imagen(g: GeminiMediaContext, req: ImageRequest, ctx: CallContext, model: string, signal: AbortSignal): Promise<Image[]> {
  const parameters: Record<string, unknown> = { sampleCount: req.n ?? 1 };
  const ratio = aspectRatioOf(req.size, IMAGEN_RATIOS);
  if (ratio) parameters.aspectRatio = ratio;
  if (typeof req.negative_prompt === 'string' && req.negative_prompt) parameters.negativePrompt = req.negative_prompt;
  const json = (await postGeminiJson(g, ctx, `models/${model}:predict`, { instances: [{ prompt: req.prompt }], parameters }, signal)) as {
    predictions?: Array<{ bytesBase64Encoded?: unknown; mimeType?: unknown; raiFilteredReason?: unknown }>;
  };
  const predictions = Array.isArray(json?.predictions) ? json.predictions : [];
  const images = predictions.flatMap((p) => (typeof p.bytesBase64Encoded === 'string' ? [{ b64: p.bytesBase64Encoded, mimeType: typeof p.mimeType === 'string' ? p.mimeType : 'image/png' }] : []));
  if (!images.length) {
    const reason = predictions.map((p) => p.raiFilteredReason).find((r) => typeof r === 'string');
    // No image for a prompt the safety filter blocked is the request's problem, not the provider's.
    if (reason || !predictions.length) throw badRequest(g, ctx, `Imagen returned no image${reason ? `: ${String(reason)}` : ' (the prompt was probably filtered)'}`, 'prompt');
    throw malformed(g, ctx, 'Imagen predictions carry no image bytes');
  }
  return images;
}

function inlineImages(res: GenerateContentResponse): Image[] {
  const parts: Part[] = res.candidates?.[0]?.content?.parts ?? [];
  return parts.flatMap((p) => (p.inlineData?.data && (p.inlineData.mimeType ?? '').startsWith('image/') ? [{ b64: p.inlineData.data, mimeType: p.inlineData.mimeType! }] : []));
}

/** One generateContent call per image: image models make one image per answer. */
async function geminiImages(g: GeminiMediaContext, req: ImageRequest, ctx: CallContext, model: string, signal: AbortSignal, leading: Part[]): Promise<Image[]> {
  const client = g.pool.get(ctx.apiKey);
  const ratio = aspectRatioOf(req.size, GEMINI_IMAGE_RATIOS);
  const out: Image[] = [];
  for (let i = 0; i < (req.n ?? 1); i++) {
    const res = await client.models.generateContent({
      model,
      contents: [{ role: 'user', parts: [...leading, { text: req.prompt }] }],
      config: { abortSignal: signal, responseModalities: ['TEXT', 'IMAGE'], ...(ratio ? { imageConfig: { aspectRatio: ratio } } : {}) },
    });
    const images = inlineImages(res);
    if (!images.length) {
      const block = res.promptFeedback?.blockReason ?? res.candidates?.[0]?.finishReason;
      const text = res.text;
      throw badRequest(g, ctx, `the model returned no image${block ? ` (${block})` : ''}${text ? `: ${text.slice(0, 300)}` : ''}`, 'prompt');
    }
    out.push(...images);
  }
  return out;
}

export function generateGeminiImage(g: GeminiMediaContext, req: ImageRequest, ctx: CallContext): Promise<ImageResult> {
  return withDeadline(ctx, { provider: g.id, mapError: mapGeminiError(g.id, ctx.model) }, async (signal) => {
    const model = checkGeminiModel(g, ctx.model);
    const images = isImagen(model) ? await imagen(g, req, ctx, model, signal) : await geminiImages(g, req, ctx, model, signal, []);
    return toResult(images, req.response_format);
  });
}

export function editGeminiImage(g: GeminiMediaContext, req: ImageEditRequest, ctx: CallContext): Promise<ImageResult> {
  return withDeadline(ctx, { provider: g.id, mapError: mapGeminiError(g.id, ctx.model) }, async (signal) => {
    const model = checkGeminiModel(g, ctx.model);
    if (isImagen(model)) throw badRequest(g, ctx, 'Imagen edits are only offered on Vertex AI; use a Gemini image model (e.g. gemini-2.5-flash-image) for edits', 'model');
    if (req.mask) throw badRequest(g, ctx, 'Gemini image models take no mask: describe the change in the prompt instead', 'mask');
    const leading: Part[] = req.image.map((f) => ({ inlineData: { mimeType: f.mimeType, data: Buffer.from(f.data).toString('base64') } }));
    return toResult(await geminiImages(g, req, ctx, model, signal, leading), req.response_format);
  });
}
