/**
 * @module Asks a running server for `GET /health` (liveness, version, uptime, per-provider readiness),
 * with a short timeout so a hung server cannot hang the CLI.
 */
export interface HealthReport {
  status: string;
  version: string;
  uptime_seconds: number;
  pid: number;
  providers: Record<string, { type: string; ready: boolean; status: string }>;
}

export async function fetchHealth(url: string, timeoutMs = 2000): Promise<HealthReport> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET /health answered ${res.status}`);
  const body = (await res.json()) as Partial<HealthReport>;
  if (typeof body.status !== 'string') throw new Error('GET /health did not answer aisbf health JSON');
  return { status: body.status, version: body.version ?? '', uptime_seconds: body.uptime_seconds ?? 0, pid: body.pid ?? 0, providers: body.providers ?? {} };
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
