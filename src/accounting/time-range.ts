/**
 * @module Times and ranges the usage API and CLI accept: ISO dates (`2025-06-01`, or with a time),
 * ms since epoch, or a duration back from now (`90m`, `24h`, `7d`).
 */

const DURATION_RE = /^(\d{1,6})([smhdw])$/;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration like `7d` in ms, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/** ms since epoch, or undefined when the text is none of the accepted forms. */
export function parseTime(text: string, now: number): number | undefined {
  const t = text.trim();
  const d = parseDuration(t);
  if (d !== undefined) return now - d;
  if (/^\d{1,15}$/.test(t)) return Number(t);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return undefined;
  // A bare date is midnight UTC (Date.parse does that); a date-time without a zone is read as UTC too.
  const iso = /T|\s/.test(t) && !/(Z|[+-]\d{2}:?\d{2})$/.test(t) ? `${t.replace(' ', 'T')}Z` : t;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}
