/**
 * @module The pino logger, asynchronous so logging never blocks the hot path, with keys and auth
 * headers redacted by path and by pattern, ISO timestamps, and never a stack trace (an error logs its
 * name and message only; stacks belong in the admin crash record, not in log files).
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
  'password',
  '*.password',
  'access_token',
  'refresh_token',
  '*.access_token',
  '*.refresh_token',
];

// Anything shaped like a credential inside free text (upstream error messages, URLs).
const SECRET_PATTERNS: RegExp[] = [
  /\b(sk|pk|rk|sess)-[A-Za-z0-9_-]{6,}/g,
  /\bsk-ant-[A-Za-z0-9_-]{6,}/g,
  /\bhf_[A-Za-z0-9]{6,}/g,
  /\bAIza[0-9A-Za-z_-]{10,}/g,
  /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
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

/** An `err` field logs as `{ type, message }`: pino's default serializer would add the stack. */
function serializeErr(err: unknown): unknown {
  if (err instanceof Error) return { type: err.name, message: redactText(err.message) };
  if (err && typeof err === 'object' && 'stack' in err) {
    const { stack: _stack, ...rest } = err as Record<string, unknown>;
    return rest;
  }
  return err;
}

/**
 * pino's isoTime, formatted once per second: `new Date().toISOString()` per line was ~1% of a chat
 * request's CPU at c=64 (profile.ts), and caching it per millisecond still paid it on nearly every line
 * at c=1, where requests are ~0.5 ms apart (5 k instructions a line, callgrind). The second's prefix
 * is cached and the milliseconds appended: the same string toISOString gives (tests/log.test.ts).
 */
let isoMs = -1;
let isoField = '';
let isoSecond = -1;
let isoPrefix = '';
/** The `,"time":"…"` field for `now` (ms since the epoch); isoTime is this at Date.now(). */
export function isoTimeField(now: number): string {
  if (now === isoMs) return isoField;
  isoMs = now;
  const second = Math.floor(now / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    // ',"time":"2026-12-04T18:05:01.' — up to and including the dot before the milliseconds.
    isoPrefix = `,"time":"${new Date(second * 1000).toISOString().slice(0, 20)}`;
  }
  const ms = now - second * 1000;
  isoField = `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z"`;
  return isoField;
}

export function isoTime(): string {
  return isoTimeField(Date.now());
}

const BASE_OPTIONS = {
  timestamp: isoTime,
  serializers: { err: serializeErr },
  formatters: { level: (label: string) => ({ level: label }) },
} satisfies pino.LoggerOptions;

/** Readable log lines for a person (`[12:00:01.234] INFO: aisbf listening url=…`), one per entry. */
export const PRETTY_OPTIONS = { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true } as const;

/**
 * A destination that prints readable lines on stdout (a terminal in the foreground). pino-pretty is
 * loaded only here, so the daemon and one-shot commands never pay for it.
 */
export async function prettyStdout(colorize: boolean): Promise<DestinationStream> {
  const { default: pretty } = await import('pino-pretty');
  return pretty({ ...PRETTY_OPTIONS, colorize, destination: 1, sync: false });
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
      ...BASE_OPTIONS,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    dest,
  );
}

/** The one line per request (server/request-log.ts): every field set by us, in this order. */
export interface RequestLineFields {
  reqId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
  provider?: string;
  model?: string;
  attempts?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Already scrubbed by redactText. */
  error?: string;
  aborted?: boolean;
}

export type RequestLineWriter = (level: 'info' | 'warn', f: RequestLineFields) => void;

const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/** What JSON.stringify would escape in a string: a quote, a backslash, a control character, a surrogate (a lone one is escaped). */
const NEEDS_ESCAPE = /["\\\x00-\x1f\ud800-\udfff]/;
/**
 * JSON.stringify of a string, without the stringifier's setup for the usual field that needs no
 * escape (an id, a route, a model name): five of them a line cost ~1.2 k instructions each.
 */
const jsonString = (s: string): string => (typeof s === 'string' && !NEEDS_ESCAPE.test(s) ? `"${s}"` : JSON.stringify(s));

/**
 * Writes request lines straight to `log`'s destination, in pino's format (level label, ISO time,
 * pid, the fields, `"msg":"request"`), at `log`'s current level (a reload's level change applies).
 *
 * Why not pino for this one line: it is written for every request, and pino's general path was ~5% of
 * a chat request's instructions (instructions.ts): a loop over the object's keys with a serializer and
 * a stringifier lookup each, and settings read through symbol-keyed properties of a logger object V8
 * keeps as a dictionary (megamorphic loads). Here the fields are known: 1.05 → 0.43 µs a line in a
 * loop. Strings go through JSON.stringify (a route or an error text is escaped as pino would). The
 * path redaction is not needed: no field can hold a key (the error text is scrubbed by the caller).
 * A destination that wants pino's metadata (a multistream) gets the line through pino instead.
 */
export function requestLineWriter(log: Logger): RequestLineWriter {
  const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as (pino.DestinationStream & Record<symbol, unknown>) | undefined;
  if (!stream || typeof stream.write !== 'function' || stream[pino.symbols.needsMetadataGsym] === true) {
    return (level, f) => log[level](f, 'request');
  }
  const pid = `,"pid":${process.pid}`;
  return (level, f) => {
    if (!log.isLevelEnabled(level)) return;
    let line = `{"level":"${level}"${isoTime()}${pid},"reqId":${jsonString(f.reqId)},"method":${jsonString(f.method)},"route":${jsonString(f.route)},"status":${jsonNumber(f.status)},"ms":${jsonNumber(f.ms)}`;
    if (f.provider !== undefined) line += `,"provider":${jsonString(f.provider)}`;
    if (f.model !== undefined) line += `,"model":${jsonString(f.model)}`;
    if (f.attempts !== undefined) line += `,"attempts":${jsonNumber(f.attempts)}`;
    if (f.prompt_tokens !== undefined) line += `,"prompt_tokens":${jsonNumber(f.prompt_tokens)}`;
    if (f.completion_tokens !== undefined) line += `,"completion_tokens":${jsonNumber(f.completion_tokens)}`;
    if (f.error !== undefined) line += `,"error":${jsonString(f.error)}`;
    if (f.aborted) line += ',"aborted":true';
    stream.write(`${line},"msg":"request"}\n`);
  };
}

/** A logger that drops everything (tests that do not care). */
export const silentLogger: Logger = pino({ level: 'silent' });
