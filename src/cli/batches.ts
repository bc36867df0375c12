/**
 * @module `aisbf batches [list | show ID | cancel ID] [--json]`: the OpenAI batches of this config dir.
 * Like `aisbf usage` it reads the config dir's SQLite directly, so it works with or without a running
 * daemon and needs no admin credentials; `cancel` marks the batch `cancelling`, and the runner (now,
 * or at the next start) stops its lines and writes what finished.
 */
import type { Argv } from 'yargs';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { CliError } from './cli-error.js';
import { loadConfigOrExplain, resolveConfigDir } from './config-dir.js';
import { alignColumns } from './status.js';
import { BatchStore, FINISHED, type BatchRow } from '../store/batch-store.js';

interface BatchesArgs extends GlobalArgs {
  action: 'list' | 'show' | 'cancel';
  id?: string;
  json: boolean;
}

const when = (s: number | null): string => (s ? new Date(s * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : '-');

function view(b: BatchRow): Record<string, unknown> {
  return {
    id: b.id,
    status: b.status,
    endpoint: b.endpoint,
    base: b.base,
    input_file_id: b.input_file_id,
    output_file_id: b.output_file_id,
    error_file_id: b.error_file_id,
    request_counts: { total: b.total, completed: b.completed, failed: b.failed },
    created_at: when(b.created_at),
    completed_at: when(b.completed_at ?? b.failed_at ?? b.cancelled_at),
    errors: b.errors ? (JSON.parse(b.errors) as unknown) : null,
    metadata: b.metadata ? (JSON.parse(b.metadata) as unknown) : null,
  };
}

function hasBatchTable(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'batches'`).get() !== undefined;
}

export const batchesCommand = defineCommand<BatchesArgs>({
  command: 'batches [action] [id]',
  describe: 'OpenAI batches (/v1/batches) of this config dir: list, show ID, cancel ID',
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional('action', { choices: ['list', 'show', 'cancel'] as const, default: 'list' as const, describe: 'list (default), show ID, or cancel ID' })
      .positional('id', { type: 'string', describe: 'The batch id (batch_…)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON' })
      .example('$0 batches', 'Every batch, newest first')
      .example('$0 batches show batch_0123abcd', 'One batch: status, counts, files, errors')
      .example('$0 batches cancel batch_0123abcd', 'Stop a batch; what finished is kept') as unknown as Argv<BatchesArgs>,
  handler: (args) => {
    const dir = resolveConfigDir(args.config);
    const config = loadConfigOrExplain(dir, false);
    const path = config.resolvePath(config.aisbf.storage.path);
    if (args.action !== 'list' && !args.id) throw new CliError(`aisbf batches ${args.action} needs a batch id (aisbf batches lists them)`);
    const out = (v: unknown): void => void process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`);
    if (!existsSync(path)) {
      if (args.action === 'list') return out(args.json ? [] : 'no batches');
      throw new CliError(`no batch ${args.id} (no database yet at ${path})`);
    }
    const db = new Database(path, { readonly: args.action !== 'cancel', fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      if (!hasBatchTable(db)) {
        if (args.action === 'list') return out(args.json ? [] : 'no batches');
        throw new CliError(`no batch ${args.id}`);
      }
      const store = new BatchStore(db);
      if (args.action === 'list') {
        const rows = store.list(undefined, { limit: 1000 });
        if (args.json) return out(rows.map(view));
        if (!rows.length) return out('no batches');
        const table = [['ID', 'STATUS', 'ENDPOINT', 'DONE', 'FAILED', 'TOTAL', 'CREATED']];
        for (const b of rows) table.push([b.id, b.status, b.endpoint, String(b.completed), String(b.failed), String(b.total), when(b.created_at)]);
        return out(alignColumns(table).join('\n'));
      }
      const b = store.get(args.id!);
      if (!b || b.kind !== 'batch') throw new CliError(`no batch ${args.id} (aisbf batches lists them)`);
      if (args.action === 'show') return out(args.json ? view(b) : Object.entries(view(b)).map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n'));
      if (b.status === 'cancelling' || b.status === 'cancelled') return out(`${b.id} is already ${b.status}`);
      if (FINISHED.has(b.status) || !store.transition(b.id, ['validating', 'in_progress'], 'cancelling')) throw new CliError(`Cannot cancel a batch with status '${store.get(b.id)?.status ?? b.status}'.`);
      out(`${b.id} is cancelling: the lines that finished are kept and written out; the rest will not run`);
    } finally {
      db.close();
    }
  },
});
