/**
 * @module The one log line per request: id, route, provider, model, status, ms, tokens. Streams log
 * when they end, so the line carries the real outcome and token counts.
 */
import { redactText, type RequestLineWriter } from '../log.js';
import type { SettleInfo, SettleObserver } from '../pipeline/run-request.js';

export class RequestLog implements SettleObserver {
  provider?: string;
  model?: string;
  attempts?: number;
  promptTokens?: number;
  completionTokens?: number;
  error?: string;
  /** Set by a streaming route: the line is written when the stream ends, not when headers go out. */
  deferred = false;
  private done = false;
  private readonly start = performance.now();

  constructor(
    private readonly write: RequestLineWriter,
    readonly id: string,
    private readonly method: string,
    private readonly path: string,
  ) {}

  /** The pipeline settled the request: what served it and its tokens; a deferred (stream) line is written now. */
  settled(info: SettleInfo): void {
    if (info.providerId !== undefined) {
      this.provider = info.providerId;
      this.model = info.model;
      this.attempts = info.attempts;
    }
    if (info.usage) {
      this.promptTokens = info.usage.prompt_tokens;
      this.completionTokens = info.usage.completion_tokens;
    }
    if (info.error !== undefined && this.deferred) this.error = (info.error as Error)?.message;
    if (this.deferred) this.finish(info.status, { aborted: info.aborted });
  }

  finish(status: number, extra?: { aborted?: boolean }): void {
    if (this.done) return;
    this.done = true;
    const ms = Math.round((performance.now() - this.start) * 100) / 100;
    this.write(status >= 500 ? 'warn' : 'info', {
      reqId: this.id,
      method: this.method,
      route: this.path,
      status,
      ms,
      provider: this.provider,
      model: this.model,
      attempts: this.attempts,
      prompt_tokens: this.promptTokens,
      completion_tokens: this.completionTokens,
      // Upstream messages can quote the key they rejected.
      error: this.error === undefined ? undefined : redactText(this.error),
      aborted: extra?.aborted || undefined,
    });
  }
}
