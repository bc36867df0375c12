/**
 * @module `<configdir>/aisbf.pid`: which server owns this config dir, where it answers, and how its
 * last reload went (JSON). The server writes it (claiming it exclusively before it listens) and removes
 * it when it stops; the other commands read it. Liveness checks guard against PID reuse by comparing
 * the process start time recorded at claim time (Linux /proc; elsewhere a signal-0 probe).
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, describeFsError } from './cli-error.js';

export const PID_FILE_NAME = 'aisbf.pid';

export interface PidRecord {
  pid: number;
  /** Where the server answers; null while it is still starting. */
  url: string | null;
  started_at: string;
  version: string;
  config_dir: string;
  /** The daemon's log file; null in the foreground (logs go to stdout). */
  log_file: string | null;
  shutdown_grace_seconds: number;
  /** /proc/<pid>/stat start time, so a recycled PID is not taken for ours. */
  proc_start: string | null;
  reloads: number;
  last_reload: { at: string; ok: boolean; error?: string } | null;
}

export function pidFilePath(configDir: string): string {
  return join(configDir, PID_FILE_NAME);
}

/** The record, or undefined when there is no file; a file that is not ours to read is `invalid`. */
export function readPidFile(path: string): PidRecord | 'invalid' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // AISBF 0.3.3 wrote a bare PID; accept it so an old file is still understood.
  if (/^\s*\d+\s*$/.test(text)) return legacyRecord(Number(text));
  try {
    const r = JSON.parse(text) as Partial<PidRecord>;
    if (typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid <= 0) return 'invalid';
    return { ...legacyRecord(r.pid), ...r } as PidRecord;
  } catch {
    return 'invalid';
  }
}

function legacyRecord(pid: number): PidRecord {
  return { pid, url: null, started_at: '', version: '', config_dir: '', log_file: null, shutdown_grace_seconds: 10, proc_start: null, reloads: 0, last_reload: null };
}

/** Creates the file, failing with EEXIST if another process holds it (two starts at once). */
export function claimPidFile(path: string, record: PidRecord): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Replaces the file's content atomically (readers never see half a record). */
export function writePidFile(path: string, record: PidRecord): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Removes the file; with `pid`, only if it still names that process. */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined) {
    const r = readPidFile(path);
    if (r === undefined || (r !== 'invalid' && r.pid !== pid)) return;
  }
  rmSync(path, { force: true });
}

/** Field 22 (starttime) of /proc/<pid>/stat, and the state letter; undefined where /proc is absent. */
function procStat(pid: number): { state: string; start: string } | undefined | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The process is gone (ENOENT/ESRCH), or there is no /proc to ask (null: cannot tell).
    return code === 'ENOENT' || code === 'ESRCH' ? undefined : null;
  }
  // The command name is in parentheses and may itself contain spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

export function procStartTime(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

/** Is this PID alive and still the process that wrote the record? */
export function isRunning(record: Pick<PidRecord, 'pid' | 'proc_start'>): boolean {
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    // EPERM: alive, owned by someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(record.pid);
  if (stat === undefined) return false;
  if (stat === null) return true;
  if (stat.state === 'Z' || stat.state === 'X') return false; // exited, not yet reaped
  return record.proc_start === null || record.proc_start === stat.start;
}

export type PidLookup = { state: 'running'; record: PidRecord } | { state: 'none' } | { state: 'stale'; pid: number | null };

/** The running server for this config dir; a stale or unreadable PID file is removed on the way. */
export function findServer(configDir: string): PidLookup {
  const path = pidFilePath(configDir);
  try {
    const record = readPidFile(path);
    if (record === undefined) return { state: 'none' };
    if (record !== 'invalid' && isRunning(record)) return { state: 'running', record };
    rmSync(path, { force: true });
    return { state: 'stale', pid: record === 'invalid' ? null : record.pid };
  } catch (err) {
    throw new CliError(describeFsError(err, path, 'use the PID file'));
  }
}

/** Waits until the process is gone; true if it went within timeoutMs. */
export async function waitForExit(record: Pick<PidRecord, 'pid' | 'proc_start'>, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(record)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return true;
}
