/**
 * instructions.ts reads callgrind's dumps through summarizeCallgrind: instructions by category, and with
 * `CACHE=1` every simulated event (cache misses, mispredicted branches) by category. A dump written the
 * way callgrind writes one (name compression, relative positions, trailing zero costs left out).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summarizeCallgrind } from '../../scripts/bench/callgrind-profile.js';

const dir = mkdtempSync(join(tmpdir(), 'aisbf-callgrind-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function dump(text: string): string {
  const file = join(dir, `callgrind.out.${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

const CACHE_DUMP = `# callgrind format
version: 1
creator: callgrind-3.19.0
cmd:  node --single-threaded bin/aisbf.js
positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
summary: 1610 400 200 30 20 10 3 2 1 100 9 20 4

fl=(1) ???
fn=(1) Builtins_KeyedLoadIC_Megamorphic
0 1000 300 100 20 15 5 2 1 1 80 7 10 3
+1 100 50
fn=(2) v8::internal::compiler::GraphReducer::ReduceTop()
0 400 40 90 8 4 4 1 1
cfn=(1)
calls=1 0
0 10 1
fn=(3) 0x00001f2a3b4c
0 100 10 10 2 1 1 0 0 0 20 2 10 1
`;

describe('summarizeCallgrind', () => {
  it('sums every simulated event by category, a missing trailing cost counting as 0, a call line as the callee’s', () => {
    const s = summarizeCallgrind(dump(CACHE_DUMP));
    expect(s.events).toEqual(['Ir', 'Dr', 'Dw', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw', 'Bc', 'Bcm', 'Bi', 'Bim']);
    expect(s.total).toBe(1600);
    expect(s.byCategory.get('builtins')).toBe(1100);
    expect(s.byCategory.get('compile')).toBe(400);
    expect(s.eventsByCategory.get('builtins')).toEqual([1100, 350, 100, 20, 15, 5, 2, 1, 1, 80, 7, 10, 3]);
    // The call line's inclusive cost (10) is not the caller's own.
    expect(s.eventsByCategory.get('compile')).toEqual([400, 40, 90, 8, 4, 4, 1, 1, 0, 0, 0, 0, 0]);
    expect(s.eventsByCategory.get('jit code')).toEqual([100, 10, 10, 2, 1, 1, 0, 0, 0, 20, 2, 10, 1]);
  });

  it('reads a dump of instructions alone as one event, with no per-event table', () => {
    const s = summarizeCallgrind(dump('events: Ir\nfn=(1) Builtins_LoadIC\n0 70\n+2 5\nfn=(2) sqlite3VdbeExec\n0 25\n'));
    expect(s.events).toEqual(['Ir']);
    expect(s.total).toBe(100);
    expect(s.byCategory.get('builtins')).toBe(75);
    expect(s.byCategory.get('sqlite')).toBe(25);
    expect(s.eventsByCategory.size).toBe(0);
  });
});
