/**
 * @module The pino logger, asynchronous so logging never blocks the hot path, with keys and auth
 * headers redacted by path and by pattern.
 */
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

const REDACT_PATHS = [
  'apiKey',
  'api_key',
  '*.apiKey',
  '*.api_key',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-aisbf-provider-key"]',
  'req.headers["x-goog-api-key"]',
  'req.headers["x-auth-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-goog-api-key"]',
  'auth_key',
  '*.auth_key',
];

// Anything shaped like a credential inside free text (upstream error messages, URLs).
const SECRET_PATTERNS: RegExp[] = [
  /\b(sk|pk|rk|sess)-[A-Za-z0-9_-]{6,}/g,
  /\bsk-ant-[A-Za-z0-9_-]{6,}/g,
  /\bhf_[A-Za-z0-9]{6,}/g,
  /\bAIza[0-9A-Za-z_-]{10,}/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi,
  /([?&](?:key|api_key|apikey|token|access_token)=)[^&\s"']+/gi,
];

/** Scrubs credential-looking substrings from a message before it is logged or sent to a client. */
export function redactText(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, (m: string, prefix?: string) => (typeof prefix === 'string' && prefix.length < m.length && /[=\s]$/.test(prefix) ? `${prefix}[redacted]` : '[redacted]'));
  }
  return out;
}

export interface LogOptions {
  level?: LevelWithSilent;
  /** A file descriptor, a path, or a ready stream (e.g. the daemon's rotating log file); default stdout. */
  destination?: number | string | DestinationStream;
  /** Synchronous writes (tests, CLI one-shots). */
  sync?: boolean;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const dest =
    typeof opts.destination === 'object'
      ? opts.destination
      : pino.destination({ dest: opts.destination ?? 1, sync: opts.sync ?? false, minLength: opts.sync ? 0 : 4096 });
  return pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/**
 * A sibling of `log` on the same destination and level, without path redaction: for the per-request
 * line, whose fields are all set by us (ids, route, status, counts; error text already scrubbed by
 * redactText). Redaction with wildcard paths is a measurable part of a request's CPU.
 */
export function plainSibling(log: Logger): Logger {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as pino.DestinationStream | undefined;
  if (!stream) return log;
  const sibling = pino({ level: log.level, base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) } }, stream);
  // A reload may change the level (SIGHUP): request lines follow it.
  log.on('level-change', (label) => {
    sibling.level = label;
  });
  return sibling;
}

/** A logger that drops everything (tests that do not care). */
export const silentLogger: Logger = pino({ level: 'silent' });
