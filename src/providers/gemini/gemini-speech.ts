/**
 * @module Text-to-speech on Gemini TTS models (e.g. `gemini-2.5-flash-preview-tts`): `generateContent`
 * with `responseModalities: ['AUDIO']` and `speechConfig.voiceConfig.prebuiltVoiceConfig.voiceName`.
 * The API answers raw PCM (16-bit little-endian mono, `audio/L16;codec=pcm;rate=24000`) in an
 * inlineData part. We wrap it into a WAV file for `wav` (our default for Gemini, since the raw stream
 * is unplayable on its own) and hand it on as is for `pcm`; other formats would need an encoder we do
 * not ship, so they are a 400 naming the format. OpenAI voice names map onto Gemini voices; Gemini's
 * own voice names (any case) are taken as they are. `instructions` become the spoken style prefix
 * Gemini's docs use ("Say cheerfully: …"); `speed` is not supported by the API and is ignored.
 */
import { withDeadline } from '../deadline.js';
import type { AudioResult, CallContext, SpeechRequest } from '../provider-adapter.js';
import { mapGeminiError } from './map-gemini-error.js';
import { badRequest, checkGeminiModel, malformed, pcmToWav, type GeminiMediaContext } from './gemini-media.js';

export const GEMINI_VOICES = [
  'Zephyr', 'Puck', 'Charon', 'Kore', 'Fenrir', 'Leda', 'Orus', 'Aoede', 'Callirrhoe', 'Autonoe', 'Enceladus', 'Iapetus', 'Umbriel', 'Algieba', 'Despina',
  'Erinome', 'Algenib', 'Rasalgethi', 'Laomedeia', 'Achernar', 'Alnilam', 'Schedar', 'Gacrux', 'Pulcherrima', 'Achird', 'Zubenelgenubi', 'Vindemiatrix',
  'Sadachbia', 'Sadaltager', 'Sulafat',
] as const;

/** OpenAI's voices → a Gemini voice of a similar character (docs/capabilities.md lists the pairs). */
export const OPENAI_TO_GEMINI_VOICE: Readonly<Record<string, string>> = {
  alloy: 'Kore',
  ash: 'Charon',
  ballad: 'Sulafat',
  coral: 'Aoede',
  echo: 'Puck',
  fable: 'Fenrir',
  nova: 'Leda',
  onyx: 'Orus',
  sage: 'Achernar',
  shimmer: 'Zephyr',
  verse: 'Iapetus',
  marin: 'Despina',
  cedar: 'Algenib',
};

const BY_LOWER = new Map<string, string>(GEMINI_VOICES.map((v) => [v.toLowerCase(), v]));

export function geminiVoice(voice: unknown): string | undefined {
  const name = typeof voice === 'string' ? voice : typeof (voice as { id?: unknown })?.id === 'string' ? (voice as { id: string }).id : '';
  const lower = name.trim().toLowerCase();
  return BY_LOWER.get(lower) ?? OPENAI_TO_GEMINI_VOICE[lower];
}

/** `audio/L16;codec=pcm;rate=24000` → 24000 (Gemini's documented rate when the type says none). */
function sampleRateOf(mimeType: string | undefined): number {
  const m = mimeType ? /rate=(\d+)/i.exec(mimeType) : null;
  return m ? Number(m[1]) : 24000;
}

export function speakGemini(g: GeminiMediaContext, req: SpeechRequest, ctx: CallContext): Promise<AudioResult> {
  const format = req.response_format ?? 'wav';
  return withDeadline(ctx, { provider: g.id, mapError: mapGeminiError(g.id, ctx.model) }, async (signal) => {
    if (format !== 'wav' && format !== 'pcm') {
      throw badRequest(g, ctx, `Gemini speech answers raw PCM, which aisbf delivers as 'wav' or 'pcm'; response_format '${format}' is not supported`, 'response_format');
    }
    const voiceName = geminiVoice(req.voice);
    if (!voiceName) {
      throw badRequest(g, ctx, `Unknown voice '${String(req.voice)}' for Gemini: use one of ${GEMINI_VOICES.join(', ')} or an OpenAI voice name (${Object.keys(OPENAI_TO_GEMINI_VOICE).join(', ')})`, 'voice');
    }
    const model = checkGeminiModel(g, ctx.model);
    const text = req.instructions ? `${req.instructions.trim().replace(/[:.]\s*$/, '')}: ${req.input}` : req.input;
    const res = await g.pool.get(ctx.apiKey).models.generateContent({
      model,
      contents: [{ role: 'user', parts: [{ text }] }],
      config: { abortSignal: signal, responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName } } } },
    });
    const part = (res.candidates?.[0]?.content?.parts ?? []).find((p) => p.inlineData?.data && (p.inlineData.mimeType ?? '').startsWith('audio/'));
    if (!part?.inlineData?.data) {
      const block = res.promptFeedback?.blockReason ?? res.candidates?.[0]?.finishReason;
      if (block && block !== 'STOP') throw badRequest(g, ctx, `Gemini returned no audio (${block})`, 'input');
      throw malformed(g, ctx, 'the answer carries no audio part');
    }
    const pcm = Buffer.from(part.inlineData.data, 'base64');
    if (format === 'pcm') return { data: pcm, contentType: 'audio/pcm' };
    return { data: pcmToWav(pcm, sampleRateOf(part.inlineData.mimeType)), contentType: 'audio/wav' };
  });
}
