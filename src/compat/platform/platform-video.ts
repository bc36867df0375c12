/**
 * @module Platform video routes answer the bytes: wait for a queued job (bounded by
 * platform.video_timeout_seconds), then stream the content with the app's headers.
 */
import type { CallContext, VideoJob } from '../../providers/provider-adapter.js';
import { ClientGoneError } from '../../providers/deadline.js';
import { ProviderError } from '../../providers/provider-error.js';
import type { Runtime } from '../../runtime.js';
import { HttpError } from '../../errors/http-error.js';
import type { CapabilityResult } from '../../pipeline/run-request.js';
import { servedHeaders } from '../../inbound/served-headers.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(new ClientGoneError())), { once: true });
  });

export async function finishVideo(rt: Runtime, signal: AbortSignal, r: CapabilityResult<{ job: VideoJob; ctx: CallContext }>, started: number): Promise<Response> {
  const { candidate: cand } = r;
  const { ctx } = r.value;
  let job = r.value.job;
  const deadline = started + rt.config.aisbf.platform.video_timeout_seconds * 1000;
  const interval = Math.max(10, rt.config.aisbf.capabilities.video_poll_seconds * 1000);
  for (let first = true; job.status === 'queued' || job.status === 'in_progress'; first = false) {
    if (!first) {
      if (Date.now() + interval > deadline) throw new ProviderError(`the video was not finished within ${rt.config.aisbf.platform.video_timeout_seconds} s`, { kind: 'timeout', provider: cand.providerId, model: cand.model });
      await sleep(interval, signal);
    }
    job = await cand.adapter.getVideo!(job.id, ctx);
  }
  if (job.status === 'failed') {
    throw new HttpError(502, `Video generation failed on ${cand.key}: ${job.error?.message ?? 'unknown error'}${job.error?.code ? ` (${job.error.code})` : ''}`);
  }
  const content = await cand.adapter.getVideoContent!(job.id, ctx);
  const headers: Record<string, string> = {
    'content-type': content.headers.get('content-type')?.startsWith('video/') ? content.headers.get('content-type')! : 'video/mp4',
    'content-disposition': 'attachment; filename="video.mp4"',
    'x-video-model': servedHeaders(r.served)['x-aisbf-model']!,
    // Seconds as a bare number (what a Python app's str(float) sends; float() reads it back).
    'x-generation-time': ((Date.now() - started) / 1000).toFixed(2),
    ...servedHeaders(r.served),
  };
  const length = content.headers.get('content-length');
  if (length) headers['content-length'] = length;
  return new Response(content.body, { status: 200, headers });
}
