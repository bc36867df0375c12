/**
 * @module `aisbf usage [--by model|key|user|client|provider|day] [--since 7d] [--until T] [--json]`:
 * the `GET /admin/usage` totals as a table. It reads the config dir's SQLite directly (read-only), so
 * it works whether or not the daemon runs and needs no admin credentials when auth is on; a running
 * daemon's last ~250 ms of records may still be in its write queue.
 */
import type { Argv } from 'yargs';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { CliError } from './cli-error.js';
import { loadConfigOrExplain, resolveConfigDir } from './config-dir.js';
import { alignColumns } from './status.js';
import { parseTime } from '../accounting/time-range.js';
import { hasUsageTable, UsageStore, USAGE_GROUPS, type UsageGroup, type UsageTotals } from '../store/usage.js';

interface UsageArgs extends GlobalArgs {
  by: UsageGroup;
  since: string;
  until?: string;
  json: boolean;
}

const MAX_RANGE_MS = 400 * 86_400_000;

function row(label: string, t: UsageTotals): string[] {
  return [label, String(t.requests), String(t.errors), String(t.prompt_tokens), String(t.completion_tokens), String(t.cached_tokens), String(t.reasoning_tokens), t.cost_usd.toFixed(6)];
}

export const usageCommand = defineCommand<UsageArgs>({
  command: 'usage',
  describe: 'Requests, errors, tokens and cost from the usage records, as a table (by model, key, user, client, provider or day)',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option('by', { choices: USAGE_GROUPS, default: 'model' as UsageGroup, describe: 'Group rows by' })
      .option('since', { type: 'string', default: '7d', describe: 'Start: a duration back from now (7d, 24h) or an ISO date' })
      .option('until', { type: 'string', describe: 'End (default now): a duration back from now or an ISO date' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON (the /admin/usage shape)' }) as unknown as Argv<UsageArgs>,
  handler: (args) => {
    const dir = resolveConfigDir(args.config);
    const config = loadConfigOrExplain(dir, false);
    const now = Date.now();
    const from = parseTime(args.since, now);
    if (from === undefined) throw new CliError(`--since ${JSON.stringify(args.since)}: use a duration (7d, 24h, 90m) or an ISO date (2025-06-01)`);
    const to = args.until === undefined ? now : parseTime(args.until, now);
    if (to === undefined) throw new CliError(`--until ${JSON.stringify(args.until)}: use a duration (7d, 24h, 90m) or an ISO date (2025-06-01)`);
    if (from > to) throw new CliError('--since is after --until');
    if (to - from > MAX_RANGE_MS) throw new CliError('the range is over 400 days; use a shorter --since');

    const path = config.resolvePath(config.aisbf.storage.path);
    const empty: UsageTotals = { requests: 0, errors: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, reasoning_tokens: 0, cost_usd: 0, cache_hits: 0 };
    let summary: { totals: UsageTotals; groups?: Array<UsageTotals & { group: string }> } = { totals: empty, groups: [] };
    if (existsSync(path)) {
      const db = new Database(path, { readonly: true, fileMustExist: true });
      try {
        db.pragma('busy_timeout = 2000');
        if (hasUsageTable(db)) summary = new UsageStore(db, { readonly: true }).summary({ from, to, groupBy: args.by });
      } finally {
        db.close();
      }
    }
    const groups = summary.groups ?? [];
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ object: 'usage', database: path, scope: 'this config dir', from: new Date(from).toISOString(), to: new Date(to).toISOString(), group_by: args.by, totals: summary.totals, groups }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`usage ${new Date(from).toISOString()} → ${new Date(to).toISOString()} (${path})\n`);
    if (!groups.length) {
      process.stdout.write('no requests recorded in this range\n');
      return;
    }
    const table = [[args.by.toUpperCase(), 'REQUESTS', 'ERRORS', 'PROMPT', 'COMPLETION', 'CACHED', 'REASONING', 'COST_USD']];
    for (const g of groups) table.push(row(g.group || '-', g));
    table.push(row('TOTAL', summary.totals));
    process.stdout.write(`${alignColumns(table).join('\n')}\n`);
  },
});
