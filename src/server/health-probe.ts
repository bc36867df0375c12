/**
 * @module The active check behind `GET /health?probe=1`: a TCP connect to each enabled provider's
 * endpoint (no request, no key, no tokens spent), with a short timeout. Results are kept, and a new
 * round starts at most once per interval however often clients ask, so /health cannot be turned into
 * a flood of connections.
 */
import { connect } from 'node:net';
import type { Runtime } from '../runtime.js';

/** Where each provider type answers when providers.json gives no `endpoint`. */
export const DEFAULT_ENDPOINTS: Record<string, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  google: 'https://generativelanguage.googleapis.com',
  ollama: 'http://127.0.0.1:11434',
  huggingface: 'https://router.huggingface.co/v1',
};

export interface ProbeResult {
  ok: boolean;
  /** ISO time of the probe. */
  at: string;
  ms: number;
  /** Why it failed: "connection refused", "timed out after 2000 ms", … */
  error?: string;
  target: string;
}

export interface HealthProber {
  /** Runs a round unless one ran within the interval; resolves with the newest results. */
  probe(rt: Runtime): Promise<ReadonlyMap<string, ProbeResult>>;
  /** The newest results (empty until the first probe). */
  last(): ReadonlyMap<string, ProbeResult>;
}

function hostPort(endpoint: string): { host: string; port: number } | undefined {
  try {
    const u = new URL(endpoint);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port };
  } catch {
    return undefined;
  }
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused (nothing listening)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    default:
      return err.code ?? err.message;
  }
}

function tcpProbe(target: string, timeoutMs: number): Promise<ProbeResult> {
  const started = Date.now();
  const done = (ok: boolean, error?: string): ProbeResult => ({ ok, at: new Date(started).toISOString(), ms: Date.now() - started, target, ...(error ? { error } : {}) });
  const hp = hostPort(target);
  if (!hp) return Promise.resolve(done(false, 'invalid endpoint URL'));
  return new Promise((resolve) => {
    const socket = connect({ host: hp.host, port: hp.port });
    const finish = (r: ProbeResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => finish(done(false, `no connection within ${timeoutMs} ms`)));
    socket.once('connect', () => finish(done(true)));
    socket.once('error', (err: NodeJS.ErrnoException) => finish(done(false, describe(err))));
  });
}

export function createHealthProber({ intervalMs = 10_000, timeoutMs = 2_000, now = Date.now } = {}): HealthProber {
  let results: ReadonlyMap<string, ProbeResult> = new Map();
  let lastRound = -Infinity;
  let running: Promise<ReadonlyMap<string, ProbeResult>> | undefined;
  return {
    last: () => results,
    probe(rt) {
      if (running) return running;
      if (now() - lastRound < intervalMs) return Promise.resolve(results);
      lastRound = now();
      const providers = Object.entries(rt.config.providers.providers).filter(([, p]) => p.enabled);
      running = Promise.all(providers.map(async ([id, p]) => [id, await tcpProbe(p.endpoint ?? DEFAULT_ENDPOINTS[p.type] ?? '', timeoutMs)] as const))
        .then((list) => {
          results = new Map(list);
          return results;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    },
  };
}
