/**
 * @module `aisbf key create --name N [--user U] [--models P,...] [--rpm N] [--tpm N]
 * [--max-parallel N] [--budget-usd X --budget-period day|week|month] [--expires 30d] [--key VALUE]`,
 * `key list`, `key revoke ID` (CONTRACTS §7.2 item 22). The key is printed once, on create; only its
 * SHA-256 is stored. A revocation reaches a running daemon on its next request.
 */
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { formatTime, print, withAuthDb } from './auth-db.js';

interface CreateArgs extends GlobalArgs {
  name: string;
  user?: string;
  models?: string;
  rpm?: number;
  tpm?: number;
  'max-parallel'?: number;
  'budget-usd'?: number;
  'budget-period'?: 'day' | 'week' | 'month';
  expires?: string;
  key?: string;
}
interface RevokeArgs extends GlobalArgs {
  id: string;
}

const createCommand = defineCommand<CreateArgs>({
  command: 'create',
  describe: 'Create an API key (printed once)',
  builder: (y: Argv) =>
    y
      .option('name', { type: 'string', demandOption: true, describe: 'What the key is for; the default X-Client-ID of its requests' })
      .option('user', { type: 'string', describe: 'The user it belongs to' })
      .option('models', { type: 'string', describe: 'Comma-separated patterns it may call (gpt-4o*, openai/*, a rotation id); default all' })
      .option('rpm', { type: 'number', describe: 'Requests per minute' })
      .option('tpm', { type: 'number', describe: 'Tokens (prompt + completion) per minute' })
      .option('max-parallel', { type: 'number', describe: 'Requests at once' })
      .option('budget-usd', { type: 'number', describe: 'USD per budget period' })
      .option('budget-period', { choices: ['day', 'week', 'month'] as const, describe: 'UTC day, ISO week or calendar month' })
      .option('expires', { type: 'string', describe: 'Lifetime (30d, 12h, 2w) or an ISO date' })
      .option('key', { type: 'string', describe: 'Use this sk-aisbf-… value instead of a random one' })
      .example('$0 key create --name ci --models "gpt-4o*" --rpm 60 --budget-usd 20 --budget-period month', 'A limited key') as Argv<CreateArgs>,
  handler: async (args) => {
    const [{ createApiKey, createKeySchema, KeyInputError }] = await Promise.all([import('../identity/api-keys.js')]);
    const parsed = createKeySchema.safeParse({
      name: args.name,
      user: args.user,
      models: args.models?.split(',').map((s) => s.trim()).filter(Boolean),
      rpm: args.rpm,
      tpm: args.tpm,
      max_parallel: args['max-parallel'],
      budget_usd: args['budget-usd'],
      budget_period: args['budget-period'],
      expires: args.expires,
      key: args.key,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = String(issue.path[0] ?? '').replace(/_/g, '-');
      throw new CliError(field ? `--${field}: ${issue.message}` : issue.message);
    }
    await withAuthDb(args, ({ keys, users }) => {
      try {
        const { record, key } = createApiKey(keys, users, parsed.data);
        print(key);
        process.stderr.write(`created ${record.id} (${record.name}); this is the only time the key is shown\n`);
      } catch (err) {
        if (err instanceof KeyInputError) throw new CliError(err.message);
        throw err;
      }
    });
  },
});

const listCommand = defineCommand<GlobalArgs>({
  command: 'list',
  describe: 'List API keys (hints only, never the keys)',
  handler: async (args) => {
    const { publicKey } = await import('../identity/api-keys.js');
    await withAuthDb(args, ({ keys }) => {
      const all = keys.list();
      if (all.length === 0) return print('no API keys (aisbf key create --name N makes one)');
      const rows = all.map((k) => {
        const v = publicKey(k);
        const limits = [v.rpm && `rpm ${v.rpm}`, v.tpm && `tpm ${v.tpm}`, v.max_parallel && `parallel ${v.max_parallel}`, v.budget_usd && `$${v.budget_usd}/${v.budget_period}`].filter(Boolean).join(', ') || '-';
        return [v.id, v.name, v.user ?? '-', v.key_hint, v.status, (v.models ?? ['*']).join(','), limits, formatTime(k.expiresAt)];
      });
      const head = ['ID', 'NAME', 'USER', 'KEY', 'STATUS', 'MODELS', 'LIMITS', 'EXPIRES'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      for (const r of [head, ...rows]) print(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
    });
  },
});

const revokeCommand = defineCommand<RevokeArgs>({
  command: 'revoke <id>',
  describe: 'Revoke an API key (a running daemon refuses it from its next request)',
  builder: (y: Argv) => y.positional('id', { type: 'string', describe: 'The key id (key_…) from "aisbf key list"' }) as Argv<RevokeArgs>,
  handler: (args) =>
    withAuthDb(args, ({ keys }) => {
      const id = String(args.id);
      const k = keys.get(id);
      if (!k) throw new CliError(`no API key ${id} (aisbf key list shows them)`);
      if (!keys.revoke(id)) throw new CliError(`${id} was already revoked`);
      print(`revoked ${id} (${k.name})`);
    }),
});

export const keyCommand = defineCommand<GlobalArgs>({
  command: 'key <command>',
  describe: 'API keys (sk-aisbf-…): create, list, revoke',
  builder: (y: Argv) => y.command(createCommand).command(listCommand).command(revokeCommand).demandCommand(1, 'name a key command: create, list or revoke') as Argv<GlobalArgs>,
  handler: () => undefined,
});
