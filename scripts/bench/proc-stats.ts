/**
 * @module CPU time and memory of a process (and its children, for cluster workers) from /proc.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

function tree(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(tree)];
}

/** user+system CPU milliseconds of the process tree. */
export function cpuMs(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks * TICK_MS;
}

/** Resident set size of the process tree, in MB. */
export function rssMb(pid: number): number {
  let kb = 0;
  for (const p of tree(pid)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

/** The highest RSS the process reached (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/**
 * Resident memory of one process by kind of mapping, in MB, from /proc/<pid>/smaps: `mainArena` is
 * `[heap]` (glibc's main-thread malloc: SQLite, node's HTTP parser, most of node's C++), `anon` every
 * other anonymous mapping (V8's heap, the other threads' malloc arenas), `file` the binary and libraries.
 * Tells native growth from V8's when RSS creeps.
 */
export function rssByMapping(pid: number): { mainArena: number; anon: number; file: number; other: number } {
  const out = { mainArena: 0, anon: 0, file: 0, other: 0 };
  let kind: keyof typeof out = 'other';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (head) {
      const name = head[2] ?? '';
      kind = name === '[heap]' ? 'mainArena' : name === '' ? 'anon' : name.startsWith('/') ? 'file' : 'other';
      continue;
    }
    if (line.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(line)?.[1] ?? 0) / 1024;
  }
  return out;
}
