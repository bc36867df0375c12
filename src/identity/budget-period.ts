/**
 * @module Budget periods (CONTRACTS §7.3 item 25): the UTC day, the ISO week (Monday to Sunday) or
 * the calendar month, each with an id for the spend counter and the ms at which it resets.
 */
import type { BudgetPeriod } from '../store/api-keys.js';

export interface PeriodWindow {
  id: string;
  /** ms since epoch when this period started. */
  startsAt: number;
  /** ms since epoch when the next period starts. */
  resetsAt: number;
}

const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');

export function periodWindow(period: BudgetPeriod, now: number): PeriodWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const dayStart = Date.UTC(y, m, d.getUTCDate());
  if (period === 'day') return { id: `${y}-${pad(m + 1)}-${pad(d.getUTCDate())}`, startsAt: dayStart, resetsAt: dayStart + DAY };
  if (period === 'month') return { id: `${y}-${pad(m + 1)}`, startsAt: Date.UTC(y, m, 1), resetsAt: Date.UTC(y, m + 1, 1) };
  // ISO week: Monday starts it; the week belongs to the year of its Thursday.
  const weekday = (d.getUTCDay() + 6) % 7;
  const monday = dayStart - weekday * DAY;
  const thursday = new Date(monday + 3 * DAY);
  const isoYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * DAY));
  return { id: `${isoYear}-W${pad(week)}`, startsAt: monday, resetsAt: monday + 7 * DAY };
}

/** Remembers the current window per period type and recomputes it only when it has passed. */
export class PeriodClock {
  private readonly cache = new Map<BudgetPeriod, PeriodWindow>();

  at(period: BudgetPeriod, now: number): PeriodWindow {
    const w = this.cache.get(period);
    if (w && now < w.resetsAt && now >= w.startsAt) return w;
    const next = periodWindow(period, now);
    this.cache.set(period, next);
    return next;
  }
}
