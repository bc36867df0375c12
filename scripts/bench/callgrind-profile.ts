/**
 * @module Reads a callgrind output file of a node process: instructions by category (JIT code,
 * V8's optimizing compilers, GC, builtins, SQLite, …) and, given the process's `--perf-basic-prof`
 * map, by JavaScript function. Used by instructions.ts.
 *
 * Attribution by function: a JIT-compiled function's own instructions, plus the whole cost of each call
 * it makes into native code that never calls back into JavaScript (a builtin, the runtime, the
 * allocator and the GC it triggers, libc, SQLite). A native call that re-enters JavaScript (a call
 * trampoline, the microtask loop) is not added: the functions it reaches are counted where they run.
 */
import { readFileSync } from 'node:fs';

export interface CallgrindSummary {
  total: number;
  byCategory: Map<string, number>;
  /** Empty without a perf map. */
  byFunction: Map<string, number>;
  /** Native functions (C++, builtins, libc) by their own instructions. */
  byNative: Map<string, number>;
  /** With a perf map: per native function, the JavaScript functions that call it and the calls' whole cost. */
  jsCallers: Map<string, Map<string, number>>;
  /** The dump's event names (`Ir` alone, or with `--cache-sim=yes` the cache misses too). */
  events: string[];
  /** Every event's own cost by category, in `events`' order. */
  eventsByCategory: Map<string, number[]>;
}

/** Optimizing and baseline compilation, parsing and bytecode generation: work a longer warm-up would have finished. */
export const COMPILE = 'compile';

const CATEGORIES: ReadonlyArray<[string, RegExp]> = [
  [COMPILE, /v8::internal::(compiler|maglev|baseline|interpreter::BytecodeGenerator|Parser|PreParser|ParserBase|Compiler|OptimizingCompileDispatcher|TurbofanCompilationJob|Zone|AstValueFactory|Scanner)\b|v8::internal::(compiler|maglev)::/],
  ['gc', /v8::internal::(Scavenger|ScavengerCollector|Heap::|MarkCompactCollector|MinorMarkCompact|Sweeper|MemoryAllocator|ConcurrentMarking|MarkingVisitor|MainMarkingVisitor|Evacuat|RememberedSet|SlotSet|GCTracer|IncrementalMarking|MarkingWorklist|heap::|LocalHeap|PagedSpace|NewSpace|SemiSpace)/],
  ['sqlite', /sqlite3|^(Statement|Binder|Data|Database)::/],
  ['libc', /libc\.so|ld-linux|^(__)?mem(cpy|move|set|cmp)|malloc|_int_free|__libc/],
  ['jit code', /^0x[0-9a-f]+$/],
  ['builtins', /^Builtins_/],
  ['node native', /node::|llhttp|uv_/],
  ['v8 runtime', /v8::/],
];

function categoryOf(fn: string): string {
  for (const [name, re] of CATEGORIES) if (re.test(fn)) return name;
  return 'other';
}

interface PerfEntry {
  start: number;
  end: number;
  name: string;
}

function loadPerfMap(path: string): PerfEntry[] {
  const entries: PerfEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp1 < 0 || sp2 < 0) continue;
    const start = parseInt(line.slice(0, sp1), 16);
    entries.push({ start, end: start + parseInt(line.slice(sp1 + 1, sp2), 16), name: line.slice(sp2 + 1) });
  }
  // Later entries win for one address (code recreated where old code was): a stable sort keeps file order.
  return entries.sort((a, b) => a.start - b.start);
}

function nameAt(map: PerfEntry[], addr: number): string {
  let lo = 0, hi = map.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]!.start <= addr) (found = mid), (lo = mid + 1);
    else hi = mid - 1;
  }
  for (let i = found; i >= 0 && i > found - 64; i--) if (map[i]!.start <= addr && addr < map[i]!.end) return map[i]!.name.replace(/^JS:/, '');
  return '(unmapped JIT code)';
}

/** One callgrind output file (uncompressed names or `(id) name` compression, costs of one event: Ir). */
export function summarizeCallgrind(file: string, perfMap?: string): CallgrindSummary {
  const map = perfMap ? loadPerfMap(perfMap) : undefined;
  const names = new Map<string, string>();
  const resolve = (tok: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(tok.trim());
    if (!m) return tok.trim();
    if (m[2] !== undefined) names.set(m[1]!, m[2]);
    return names.get(m[1]!) ?? tok;
  };
  const isJit = (fn: string) => /^0x[0-9a-f]+$/.test(fn);
  const self = new Map<string, number>();
  // Call edges: caller -> callee -> inclusive cost.
  const edges: Array<{ from: string; to: string; cost: number }> = [];
  let total = 0;
  let fn = '';
  let callee = '';
  let inCall = false;
  let events = ['Ir'];
  const selfEvents = new Map<string, number[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('events: ')) events = line.slice(8).trim().split(/\s+/);
    else if (line.startsWith('fn=')) {
      fn = resolve(line.slice(3));
      inCall = false;
    } else if (line.startsWith('cfn=')) callee = resolve(line.slice(4));
    else if (line.startsWith('calls=')) inCall = true;
    else if (/^[0-9+\-*]/.test(line)) {
      const fields = line.split(' ');
      const cost = Number(fields[1]);
      if (!Number.isFinite(cost)) continue;
      if (inCall) {
        edges.push({ from: fn, to: callee, cost });
        inCall = false;
      } else {
        total += cost;
        self.set(fn, (self.get(fn) ?? 0) + cost);
        if (events.length > 1) {
          const sums = selfEvents.get(fn) ?? selfEvents.set(fn, new Array<number>(events.length).fill(0)).get(fn)!;
          for (let i = 0; i < events.length; i++) sums[i]! += Number(fields[i + 1] ?? 0) || 0;
        }
      }
    }
  }
  const byCategory = new Map<string, number>();
  const byNative = new Map<string, number>();
  for (const [f, c] of self) {
    byCategory.set(categoryOf(f), (byCategory.get(categoryOf(f)) ?? 0) + c);
    if (!isJit(f)) byNative.set(f, c);
  }

  const eventsByCategory = new Map<string, number[]>();
  for (const [f, sums] of selfEvents) {
    const cat = categoryOf(f);
    const acc = eventsByCategory.get(cat) ?? eventsByCategory.set(cat, new Array<number>(events.length).fill(0)).get(cat)!;
    for (let i = 0; i < sums.length; i++) acc[i]! += sums[i]!;
  }

  const byFunction = new Map<string, number>();
  const jsCallers = new Map<string, Map<string, number>>();
  if (map) {
    // Natives that call JavaScript, directly or through other natives: their calls are not "own" cost.
    const reenters = new Set<string>();
    let grew = true;
    while (grew) {
      grew = false;
      for (const e of edges) if (!isJit(e.from) && !reenters.has(e.from) && (isJit(e.to) || reenters.has(e.to))) (reenters.add(e.from), (grew = true));
    }
    const add = (k: string, c: number) => byFunction.set(k, (byFunction.get(k) ?? 0) + c);
    for (const [f, c] of self) if (isJit(f)) add(nameAt(map, parseInt(f, 16)), c);
    for (const e of edges) {
      if (!isJit(e.from) || isJit(e.to)) continue;
      const caller = nameAt(map, parseInt(e.from, 16));
      if (!reenters.has(e.to)) add(caller, e.cost);
      const m = jsCallers.get(e.to) ?? new Map<string, number>();
      m.set(caller, (m.get(caller) ?? 0) + e.cost);
      jsCallers.set(e.to, m);
    }
  }
  return { total, byCategory, byFunction, byNative, jsCallers, events, eventsByCategory };
}
