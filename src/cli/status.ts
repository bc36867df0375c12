/**
 * @module `aisbf status`: is the server for this config dir running, where, for how long, which
 * version, and how each provider stands (from `GET /health`). Exit 0 running, 1 not running (a stale
 * PID file is removed), 2 the process is alive but does not answer.
 */
import type { Argv } from 'yargs';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { resolveConfigDir } from './config-dir.js';
import { fetchHealth, formatUptime, healthFailure, type HealthReport } from './health-client.js';
import { findServer } from './pid-file.js';

interface StatusArgs extends GlobalArgs {
  json: boolean;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function printHealth(h: HealthReport, pid: number, url: string, logFile: string | null, configDir: string, lastReload: { at: string; ok: boolean; error?: string } | null): void {
  print('aisbf is running');
  // With server.workers > 1 the PID file names the cluster primary and /health a worker.
  print(`  PID:      ${pid}${h.pid !== pid ? ` (cluster primary; worker ${h.pid} answered)` : ''}`);
  print(`  URL:      ${url}`);
  print(`  uptime:   ${formatUptime(h.uptime_seconds)}`);
  print(`  version:  ${h.version}`);
  print(`  config:   ${configDir}`);
  print(`  log:      ${logFile ?? 'stdout (foreground)'}`);
  if (lastReload) print(`  reload:   ${lastReload.at} ${lastReload.ok ? 'ok' : `FAILED: ${lastReload.error ?? ''}`}`);
  const ids = Object.keys(h.providers);
  print(`  providers (${ids.length}):`);
  const width = Math.max(0, ...ids.map((id) => id.length));
  for (const id of ids) {
    const p = h.providers[id]!;
    print(`    ${id.padEnd(width)}  ${p.ready ? 'ready    ' : 'not ready'}  ${p.type}  ${p.status}`);
  }
}

export const statusCommand = defineCommand<StatusArgs>({
  command: 'status',
  describe: 'Show whether the server is running: PID, URL, uptime, version, providers',
  builder: (y: Argv) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON object (for scripts)' })
      .example('$0 status', 'Human-readable status')
      .example('$0 status --json | jq .providers', 'Machine-readable status')
      .epilogue('Exit codes: 0 running; 1 not running (a stale PID file is removed); 2 the process is alive but does not answer /health.') as Argv<StatusArgs>,
  handler: async (args) => {
    const configDir = resolveConfigDir(args.config);
    const found = findServer(configDir);
    if (found.state !== 'running') {
      const stale = found.state === 'stale' ? found.pid ?? 0 : null;
      if (args.json) print(JSON.stringify({ running: false, config_dir: configDir, stale_pid_removed: stale }));
      else print(`aisbf is not running (config dir ${configDir})${stale !== null ? `; removed a stale PID file (PID ${stale})` : ''}`);
      process.exitCode = 1;
      return;
    }
    const r = found.record;
    let health: HealthReport | undefined;
    let reason = 'still starting';
    if (r.url) {
      try {
        health = await fetchHealth(r.url);
      } catch (err) {
        reason = healthFailure(err);
      }
    }
    if (args.json) {
      print(
        JSON.stringify({
          running: true,
          healthy: health !== undefined,
          pid: r.pid,
          url: r.url,
          started_at: r.started_at,
          uptime_seconds: health?.uptime_seconds ?? null,
          version: health?.version ?? r.version,
          config_dir: configDir,
          log_file: r.log_file,
          last_reload: r.last_reload,
          providers: health?.providers ?? null,
          ...(health ? {} : { error: reason }),
        }),
      );
    } else if (health) {
      printHealth(health, r.pid, r.url!, r.log_file, configDir, r.last_reload);
    } else {
      print(`aisbf (PID ${r.pid}) is running but ${r.url ?? 'its URL'} does not answer /health: ${reason}`);
    }
    process.exitCode = health ? 0 : 2;
  },
});
