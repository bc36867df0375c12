/**
 * @module Starts a real aisbf server (real HTTP on 127.0.0.1, random port) on a temp config dir
 * written from the given config sections, for tests. Nothing of ours is mocked.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { Clock } from '../../src/routing/health.js';

export interface TestConfig {
  /** providers.json `providers` section. */
  providers?: Record<string, unknown>;
  /** providers.json `condensation` section. */
  condensation?: Record<string, unknown>;
  /** rotations.json `rotations` section (top-level defaults via rotationsFile). */
  rotations?: Record<string, unknown>;
  rotationsFile?: Record<string, unknown>;
  /** autoselect.json content (id → config). */
  autoselect?: Record<string, unknown>;
  /** aisbf.json content, merged over test defaults. */
  aisbf?: Record<string, any>;
  /** autoselect.md text. */
  autoselectPrompt?: string;
}

export interface TestServer {
  url: string;
  configDir: string;
  running: RunningServer;
  /** Rewrites config files (same shape as TestConfig) without reloading. */
  writeConfig(cfg: TestConfig): void;
  /**
   * Stops the server and starts a new one on the same config dir (and database); url changes.
   * `whileStopped` runs between the two, e.g. to write the database as an earlier process would have.
   */
  restart?(whileStopped?: () => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export function writeTestConfig(dir: string, cfg: TestConfig): void {
  const aisbf = { ...cfg.aisbf, server: { port: 0, ...cfg.aisbf?.server }, logging: { level: 'silent', ...cfg.aisbf?.logging } };
  writeFileSync(join(dir, 'aisbf.json'), JSON.stringify(aisbf, null, 2));
  writeFileSync(join(dir, 'providers.json'), JSON.stringify({ condensation: cfg.condensation ?? { enabled: true }, providers: cfg.providers ?? {} }, null, 2));
  writeFileSync(join(dir, 'rotations.json'), JSON.stringify({ ...cfg.rotationsFile, rotations: cfg.rotations ?? {} }, null, 2));
  writeFileSync(join(dir, 'autoselect.json'), JSON.stringify(cfg.autoselect ?? {}, null, 2));
  if (cfg.autoselectPrompt !== undefined) writeFileSync(join(dir, 'autoselect.md'), cfg.autoselectPrompt);
}

/** A request's usage records, the write-behind queue flushed first (what `aisbf usage` would read). */
export function usageRowsOf(server: TestServer, requestId: string) {
  const acc = server.running.deps.accounting!;
  acc.writer.flush();
  return acc.usage.forRequest(requestId);
}

export function makeConfigDir(cfg: TestConfig): string {
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-test-'));
  writeTestConfig(dir, cfg);
  return dir;
}

export interface StartAisbfOptions {
  /** Clock of health and rate-limit state, so cooldowns expire without sleeping. */
  clock?: Clock;
  /** A logger instead of the silent one (e.g. the fuzzer's FUZZ_LOG file). */
  log?: Logger;
}

export async function startAisbf(cfg: TestConfig, env: NodeJS.ProcessEnv = {}, opts: StartAisbfOptions = {}): Promise<TestServer> {
  const configDir = makeConfigDir(cfg);
  const start = () => startServer({ configDir, port: 0, host: '127.0.0.1', log: opts.log ?? silentLogger, env, clock: opts.clock });
  const server: TestServer & Required<Pick<TestServer, 'restart'>> = {
    url: '',
    configDir,
    running: await start(),
    writeConfig: (c) => writeTestConfig(configDir, c),
    restart: async (whileStopped) => {
      await server.running.close(100);
      await whileStopped?.();
      server.running = await start();
      server.url = server.running.url;
    },
    close: async () => {
      await server.running.close(100);
      rmSync(configDir, { recursive: true, force: true });
    },
  };
  server.url = server.running.url;
  return server;
}
