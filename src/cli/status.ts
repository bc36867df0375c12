/**
 * @module `aisbf status`: is the server for this config dir running, where, for how long, which
 * version, and how each provider stands (from `GET /health`). Exit 0 running, 1 not running (a stale
 * PID file is removed), 2 the process is alive but does not answer.
 */
import type { Argv } from 'yargs';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { resolveConfigDir } from './resolve-config-dir.js';
import { fetchHealth, formatUptime, healthFailure, type HealthReport } from './health-client.js';
import { findServer } from './pid-file.js';

interface StatusArgs extends GlobalArgs {
  json: boolean;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Rows as columns padded to their widest cell (the last column is left ragged). */
export function alignColumns(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

function printHealth(h: HealthReport, pid: number, url: string, logFile: string | null, configDir: string, lastReload: { at: string; ok: boolean; error?: string } | null): void {
  const down = h.problems.filter((p) => !p.startsWith('storage: ')).length;
  const why = [down ? `${down} provider${down === 1 ? '' : 's'} cannot serve` : '', h.storage?.state === 'degraded' ? 'shared store unreachable, running on local state' : ''].filter(Boolean).join('; ');
  print(`aisbf is running${h.status === 'healthy' ? '' : ` (${h.status}: ${why})`}`);
  // With server.workers > 1 the state file names the cluster primary and /health a worker.
  const rows: string[][] = [
    ['PID:', `${pid}${h.pid !== pid ? ` (cluster primary; worker ${h.pid} answered)` : ''}`],
    ['URL:', url],
    ['status:', h.status],
    ['uptime:', formatUptime(h.uptime_seconds)],
    ['version:', h.version],
    ['config:', configDir],
    ['log:', logFile ?? 'stdout (foreground)'],
  ];
  if (h.storage) {
    const s = h.storage;
    rows.push(['storage:', s.state === 'connected' ? `${s.backend} ${s.url} connected (instance ${s.instance})` : `${s.backend} ${s.url} DEGRADED since ${s.since}: limits, cooldowns and the cache hold for this instance only until it is back`]);
  }
  if (lastReload) rows.push(['reload:', `${lastReload.at} ${lastReload.ok ? 'ok' : `FAILED: ${lastReload.error ?? ''}`}`]);
  for (const line of alignColumns(rows, '  ')) print(line);
  const ids = Object.keys(h.providers);
  print(`  providers (${ids.length}):`);
  const table = [['PROVIDER', 'TYPE', 'STATE', 'DETAIL']];
  for (const id of ids) {
    const p = h.providers[id]!;
    table.push([id, p.type, p.ready ? 'ready' : 'not ready', p.status]);
  }
  for (const line of alignColumns(table, '    ')) print(line);
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
        // An active probe (rate-limited server-side) so a local provider with nothing listening shows.
        health = await fetchHealth(r.url, 5000, true);
      } catch (err) {
        reason = healthFailure(err);
      }
    }
    if (args.json) {
      print(
        JSON.stringify({
          running: true,
          healthy: health !== undefined,
          status: health?.status ?? null,
          problems: health?.problems ?? null,
          pid: r.pid,
          url: r.url,
          started_at: r.started_at,
          uptime_seconds: health?.uptime_seconds ?? null,
          version: health?.version ?? r.version,
          config_dir: configDir,
          log_file: r.log_file,
          last_reload: r.last_reload,
          providers: health?.providers ?? null,
          ...(health?.storage ? { storage: health.storage } : {}),
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
