import { describe, expect, it } from 'vitest';
import { PeriodClock, periodWindow } from '../../src/identity/budget-period.js';

describe('budget periods', () => {
  it('names the UTC day, ISO week and calendar month and when each resets', () => {
    const t = Date.UTC(2027, 0, 1, 15, 30); // a Friday; ISO week 53 of 2026
    expect(periodWindow('day', t)).toEqual({ id: '2027-01-01', startsAt: Date.UTC(2027, 0, 1), resetsAt: Date.UTC(2027, 0, 2) });
    expect(periodWindow('week', t)).toEqual({ id: '2026-W53', startsAt: Date.UTC(2026, 11, 28), resetsAt: Date.UTC(2027, 0, 4) });
    expect(periodWindow('month', t)).toEqual({ id: '2027-01', startsAt: Date.UTC(2027, 0, 1), resetsAt: Date.UTC(2027, 1, 1) });
    expect(periodWindow('week', Date.UTC(2026, 2, 2)).id).toBe('2026-W10'); // a Monday
  });

  it('moves to the next period once the reset time passes', () => {
    const clock = new PeriodClock();
    const end = Date.UTC(2026, 6, 1); // 1 July 00:00 UTC
    expect(clock.at('month', end - 1).id).toBe('2026-06');
    expect(clock.at('month', end).id).toBe('2026-07');
  });
});
