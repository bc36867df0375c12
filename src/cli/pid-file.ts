/**
 * @module `<configdir>/aisbf.pid` holds only the server's PID (what systemd's `PIDFile=`,
 * start-stop-daemon and `kill $(cat aisbf.pid)` expect); `<configdir>/aisbf.state.json` beside it holds
 * the rest: where it answers, how it was started, how its last reload went. The server claims the PID
 * file exclusively before it listens and removes both when it stops; the other commands read them.
 * Liveness checks guard against PID reuse by comparing the process start time recorded at claim time
 * (Linux /proc; elsewhere a signal-0 probe).
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CliError, describeFsError } from './cli-error.js';

export const PID_FILE_NAME = 'aisbf.pid';
export const STATE_FILE_NAME = 'aisbf.state.json';

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
  /** The `--host`/`--port`/`--log-level` it was started with (`aisbf restart` passes them on). */
  args: { host?: string; port?: number; log_level?: string };
  reloads: number;
  last_reload: { at: string; ok: boolean; error?: string } | null;
}

export function pidFilePath(configDir: string): string {
  return join(configDir, PID_FILE_NAME);
}

/** The state file beside a PID file. */
export function stateFilePath(pidPath: string): string {
  return join(dirname(pidPath), STATE_FILE_NAME);
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The record, or undefined when there is no PID file; a PID file that is not a PID is `invalid`.
 * The state file fills in the rest when it names the same PID (else only the PID is known).
 */
export function readPidFile(path: string): PidRecord | 'invalid' | undefined {
  const text = readIfExists(path);
  if (text === undefined) return undefined;
  let pid: number;
  if (/^\s*\d+\s*$/.test(text)) {
    pid = Number(text);
  } else {
    // aisbf 0.1 wrote the whole record as JSON into the PID file; still understood.
    try {
      const r = JSON.parse(text) as Partial<PidRecord>;
      if (typeof r.pid !== 'number' || !Number.isInteger(r.pid) || r.pid <= 0) return 'invalid';
      return { ...bareRecord(r.pid), ...r } as PidRecord;
    } catch {
      return 'invalid';
    }
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return 'invalid';
  const state = readIfExists(stateFilePath(path));
  if (state !== undefined) {
    try {
      const r = JSON.parse(state) as Partial<PidRecord>;
      if (r.pid === pid) return { ...bareRecord(pid), ...r } as PidRecord;
    } catch {
      // A torn or foreign state file: the PID alone still tells whether it runs.
    }
  }
  return bareRecord(pid);
}

function bareRecord(pid: number): PidRecord {
  return { pid, url: null, started_at: '', version: '', config_dir: '', log_file: null, shutdown_grace_seconds: 10, proc_start: null, args: {}, reloads: 0, last_reload: null };
}

/**
 * Creates the PID file, failing with EEXIST if another process holds it (two starts at once), then the
 * state file. The PID is written to a temp file first and hard-linked into place (link, like an
 * exclusive create, fails when the name exists): an exclusive create followed by a write left a moment
 * when the file existed empty, which a reader (`aisbf status`, a second start, the tests) took for an
 * invalid PID file.
 */
export function claimPidFile(path: string, record: PidRecord): void {
  const tmp = `${path}.${process.pid}.claim`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${record.pid}\n`);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  writePidFile(path, record);
}

/** Replaces the state file's content atomically (readers never see half a record); the PID file stays. */
export function writePidFile(path: string, record: PidRecord): void {
  const statePath = stateFilePath(path);
  const tmp = `${statePath}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(record, null, 2)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, statePath);
}

/** Removes the PID file and the state file; with `pid`, only if the PID file still names that process. */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined) {
    const r = readPidFile(path);
    if (r === undefined || (r !== 'invalid' && r.pid !== pid)) return;
  }
  rmSync(path, { force: true });
  rmSync(stateFilePath(path), { force: true });
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
    removePidFile(path);
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
