/**
 * @module Runs the REAL built CLI (`node bin/aisbf.js …`) as a child process, as a user would, and
 * cleans up every server it started. Needs `npm run build` first (`npm test` does it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTestConfig, type TestConfig } from '../helpers/aisbf-server.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'aisbf.js');

const CHECKED_SOURCES = ['main.ts', 'commands.ts', 'serve.ts', 'daemon.ts', 'status.ts', 'stop.ts', 'restart.ts', 'reload.ts', 'config.ts', 'pid-file.ts', 'logs.ts'];

/** Fails loudly when dist is missing or older than src/cli, instead of testing a stale build. */
export function assertBuilt(): void {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error('dist/cli/main.js is missing: run "npm run build" first');
  for (const f of CHECKED_SOURCES) {
    const built = join(ROOT, 'dist', 'cli', f.replace(/\.ts$/, '.js'));
    if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(ROOT, 'src', 'cli', f)).mtimeMs) {
      throw new Error(`dist is older than src/cli/${f}: run "npm run build" first`);
    }
  }
  // bin/aisbf.js runs the bundle, made from dist/ by the same build.
  const bundle = join(ROOT, 'dist', 'bundle', 'main.js');
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < statSync(main).mtimeMs) throw new Error('dist/bundle is missing or older than dist/: run "npm run build" first');
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A clean environment: no config dir or debug flag inherited from whoever runs the tests. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('AISBF_CONFIG_DIR' in extra)) delete env.AISBF_CONFIG_DIR;
  if (!('AISBF_DEBUG' in extra)) delete env.AISBF_DEBUG;
  return env;
}

/** The last few KB of each spawned CLI's stderr, so a process that died says why in the failure. */
const stderrTails = new WeakMap<ChildProcess, string>();

/** `nodeArgs`: flags for node itself (V8's --log-maps, say), before the script. */
export function spawnCli(args: string[], env?: NodeJS.ProcessEnv, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  stderrTails.set(child, '');
  child.stderr!.on('data', (d: Buffer) => stderrTails.set(child, (stderrTails.get(child)! + d.toString()).slice(-4096)));
  // Drained: a long-running server's request lines must never fill the pipe and block it.
  child.stdout!.on('data', () => {});
  return child;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const started = Date.now();
  const child = spawnCli(args, opts.env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`aisbf ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 30000}ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePromise(port));
    });
  });
}

/** A temp config dir for the CLI: the given sections, logging at info so the log says what happened. */
export function makeCliConfigDir(cfg: TestConfig, port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-cli-'));
  writeCliConfig(dir, cfg, port);
  return dir;
}

export function writeCliConfig(dir: string, cfg: TestConfig, port: number): void {
  writeTestConfig(dir, { ...cfg, aisbf: { ...cfg.aisbf, server: { port, ...cfg.aisbf?.server }, logging: { level: 'info', ...cfg.aisbf?.logging } } });
}

export interface PidFileContent {
  pid: number;
  url: string | null;
  started_at: string;
  reloads: number;
  last_reload: { ok: boolean; error?: string } | null;
  log_file: string | null;
}

/** The server's record: the bare PID from aisbf.pid, the rest from aisbf.state.json beside it. */
export function readPid(dir: string): PidFileContent | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'aisbf.pid'), 'utf8');
  } catch {
    return undefined;
  }
  if (!/^\d+\n$/.test(text)) throw new Error(`aisbf.pid must hold only the PID and a newline, got ${JSON.stringify(text)}`);
  const pid = Number(text);
  try {
    const state = JSON.parse(readFileSync(join(dir, 'aisbf.state.json'), 'utf8')) as PidFileContent;
    if (state.pid === pid) return state;
  } catch {
    // Not written yet (the server is claiming the PID file right now).
  }
  return { pid, url: null, started_at: '', reloads: 0, last_reload: null, log_file: null };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An exited child not yet reaped is a zombie: gone for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/**
 * Polls until `check` returns a truthy value, or throws after timeoutMs. With `child`, fails at once
 * (with its exit code) when that process exits first: a server that died is reported as such, not
 * as a slow start.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false | '' | Promise<T | undefined | null | false | ''>, timeoutMs = 10000, child?: ChildProcess): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (child && child.exitCode !== null) {
      const tail = stderrTails.get(child)?.trim();
      throw new Error(`gave up waiting for ${what}: the process exited with code ${child.exitCode}${tail ? `; its stderr ended with:\n${tail}` : ''}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills (SIGKILL) every PID given that is still alive, and removes the temp dirs. */
export function cleanup(pids: Iterable<number>, dirs: Iterable<string>): void {
  for (const pid of pids) {
    if (isAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  for (const d of dirs) if (d) rmSync(d, { recursive: true, force: true });
}

/** A stack trace line, which no CLI message may contain. */
export const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$|^\s+at .+:\d+:\d+$/m;

/** The built daemon in the foreground on a fresh config dir, answering /health. */
export interface BuiltDaemon {
  port: number;
  dir: string;
  server: ChildProcess;
  /** Stops it (SIGTERM, waits for the exit) and removes its config dir. */
  close(): Promise<void>;
}

/** `nodeArgs` may depend on the config dir (a log file inside it, say). */
export async function startBuiltDaemon(cfg: TestConfig, nodeArgs: (dir: string) => string[] = () => []): Promise<BuiltDaemon> {
  assertBuilt();
  const port = await freePort();
  const dir = makeCliConfigDir(cfg, port);
  const server = spawnCli([], { AISBF_CONFIG_DIR: dir }, nodeArgs(dir));
  await waitFor('the built daemon to answer /health', () => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false), 20_000, server);
  return {
    port,
    dir,
    server,
    close: async () => {
      if (server.exitCode === null) {
        const gone = new Promise((r) => server.once('exit', r));
        server.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
