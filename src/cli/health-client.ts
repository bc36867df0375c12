/**
 * @module Asks a running server for `GET /health` (liveness, version, uptime, per-provider readiness,
 * optionally with an active probe), with a short timeout so a hung server cannot hang the CLI.
 */
export interface ProviderHealthReport {
  type: string;
  ready: boolean;
  status: string;
  cooldowns?: Array<{ model: string; until: string; failures: number; last_error: string | null }>;
  probe?: { ok: boolean; at: string; ms: number; error?: string; target: string };
}

export interface HealthReport {
  /** `healthy`, or `degraded` when an enabled provider cannot serve (see `problems`). */
  status: string;
  version: string;
  uptime_seconds: number;
  pid: number;
  problems: string[];
  providers: Record<string, ProviderHealthReport>;
  /** storage.redis: the shared store; `degraded` while this instance runs on local state. */
  storage?: { backend: string; state: string; url: string; instance: string; since: string };
}

/** `probe`: ask the server to check each provider's endpoint (a TCP connect; at most once per 10 s). */
export async function fetchHealth(url: string, timeoutMs = 2000, probe = false): Promise<HealthReport> {
  const res = await fetch(`${url}/health${probe ? '?probe=1' : ''}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET /health answered ${res.status}`);
  const body = (await res.json()) as Partial<HealthReport>;
  if (typeof body.status !== 'string') throw new Error('GET /health did not answer aisbf health JSON');
  return { status: body.status, version: body.version ?? '', uptime_seconds: body.uptime_seconds ?? 0, pid: body.pid ?? 0, problems: body.problems ?? [], providers: body.providers ?? {}, ...(body.storage ? { storage: body.storage } : {}) };
}

/** A short reason for a failed health check ("connection refused", "timed out after 2s" …). */
export function healthFailure(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  if (e.cause?.code === 'ECONNREFUSED') return 'connection refused';
  return e.cause?.code ?? e.message;
}

export function formatUptime(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`, `${s % 60}s`].filter(Boolean);
  return parts.slice(0, 3).join(' ');
}
