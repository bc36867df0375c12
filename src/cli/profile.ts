/**
 * @module `aisbf profile add|list|delete|report`: the glasses app's profiles (CONTRACTS.md §6.12),
 * edited in the SQLite file directly — whether or not the daemon runs (WAL makes that safe, and the
 * daemon reads profiles per request, so it sees the change at once). The database and crypto modules
 * are imported by the handlers, so other commands do not load them.
 */
import type { Argv } from 'yargs';
import type { Config } from '../config/load-config.js';
import type { Db } from '../store/db.js';
import type { GlassesStores } from '../glasses/glasses-data.js';
import { CliError, describeFsError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { loadConfigOrExplain, resolveConfigDir } from './config-dir.js';

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export interface GlassesCli {
  config: Config;
  db: Db;
  stores: GlassesStores;
  imagesDir: string;
  close(): void;
}

/** The config and the glasses tables of the database it names, for one CLI command. */
export async function openGlassesCli(args: GlobalArgs): Promise<GlassesCli> {
  const { openDatabase } = await import('../store/db.js');
  const { imagesDir, openGlassesStores } = await import('../glasses/glasses-data.js');
  const config = loadConfigOrExplain(resolveConfigDir(args.config));
  const path = config.resolvePath(config.aisbf.storage.path);
  let db: Db;
  try {
    db = openDatabase(path);
  } catch (err) {
    throw new CliError(describeFsError(err, path, 'open the database'));
  }
  return { config, db, stores: openGlassesStores(db), imagesDir: imagesDir(config), close: () => db.close() };
}

/** Runs `fn` with the glasses data open, closing the database whatever happens. */
export async function withGlasses<T>(args: GlobalArgs, fn: (g: GlassesCli) => T | Promise<T>): Promise<T> {
  const g = await openGlassesCli(args);
  try {
    return await fn(g);
  } finally {
    g.close();
  }
}

export function requireProfile(g: GlassesCli, username: string) {
  const p = g.stores.profiles.get(username);
  if (!p) throw new CliError(`no profile "${username}" (aisbf profile list shows them)`);
  return p;
}

export function formatTime(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

interface AddArgs extends GlobalArgs {
  username: string;
  auth_key: string;
}
interface UserArgs extends GlobalArgs {
  username: string;
}

const addCommand = defineCommand<AddArgs>({
  command: 'add <username> <auth_key>',
  describe: 'Add a profile; the glasses send <auth_key> (stored only as a salted scrypt hash)',
  builder: (y: Argv) =>
    y
      .positional('username', { type: 'string', describe: 'Letters, digits and _ . @ - (up to 64)' })
      .positional('auth_key', { type: 'string', describe: 'The secret the glasses send as X-Auth-Key' })
      .example('$0 profile add alice "$(openssl rand -hex 16)"', 'Add alice with a random key') as Argv<AddArgs>,
  handler: async (args) => {
    const { USERNAME_RE } = await import('../store/profiles.js');
    const { hashAuthKey } = await import('../glasses/auth-key.js');
    const username = String(args.username);
    const key = String(args.auth_key);
    if (!USERNAME_RE.test(username)) throw new CliError(`invalid username "${username}": use letters, digits and _ . @ - (1 to 64 characters)`);
    if (!key.trim()) throw new CliError('the auth key must not be empty');
    const hash = await hashAuthKey(key);
    await withGlasses(args, (g) => {
      if (!g.stores.profiles.create(username, hash)) throw new CliError(`profile "${username}" already exists; "aisbf profile delete ${username}" first to replace it`);
    });
    print(`added profile ${username}`);
    if (key.length < 12) process.stderr.write('aisbf: warning: that auth key is short; anyone who guesses it can use this profile\n');
  },
});

const listCommand = defineCommand<GlobalArgs>({
  command: 'list',
  describe: 'List profiles with their request counts and last activity',
  handler: (args) =>
    withGlasses(args, (g) => {
      const all = g.stores.profiles.list();
      if (all.length === 0) {
        print('no profiles ("aisbf profile add <username> <auth_key>" adds one)');
        return;
      }
      const width = Math.max(8, ...all.map((p) => p.username.length));
      print(`${'username'.padEnd(width)}  requests  last activity         provider keys  prompt`);
      for (const p of all) {
        print(
          `${p.username.padEnd(width)}  ${String(p.totalRequests).padStart(8)}  ${formatTime(p.lastActivity).padEnd(20)}  ${(p.apiKeyNames.map((n) => n.replace('_api_key', '')).join(',') || '-').padEnd(13)}  ${p.prompt === null ? 'default' : 'custom'}`,
        );
      }
    }),
});

const deleteCommand = defineCommand<UserArgs>({
  command: 'delete <username>',
  describe: 'Delete a profile with its activity log and stored images',
  builder: (y: Argv) => y.positional('username', { type: 'string' }) as Argv<UserArgs>,
  handler: (args) =>
    withGlasses(args, async (g) => {
      const { deleteProfileWithData } = await import('../glasses/glasses-data.js');
      const username = String(args.username);
      requireProfile(g, username);
      const { removed } = deleteProfileWithData(g.stores, g.imagesDir, username);
      print(`deleted profile ${username} (${removed.rows} activity rows, ${removed.imageFiles.length} images)`);
    }),
});

const reportCommand = defineCommand<UserArgs>({
  command: 'report <username>',
  describe: 'Totals and the last 10 requests of a profile',
  builder: (y: Argv) => y.positional('username', { type: 'string' }) as Argv<UserArgs>,
  handler: (args) =>
    withGlasses(args, (g) => {
      const p = requireProfile(g, String(args.username));
      const t = g.stores.activity.totals(p.username);
      const g2 = g.config.aisbf.glasses;
      print(`profile ${p.username}`);
      print(`  created:        ${formatTime(p.createdAt)}`);
      print(`  last activity:  ${formatTime(p.lastActivity)}`);
      print(`  requests:       ${p.totalRequests} total, ${t.requests} kept (last ${g2.retention_days} days)`);
      print(`  stored data:    ${t.bytes} bytes (budget ${g2.max_profile_bytes})`);
      print(`  provider keys:  ${p.apiKeyNames.join(', ') || 'none (the configured keys are used)'}`);
      print(`  prompt:         ${p.prompt ?? `${g2.default_prompt} (default)`}`);
      const recent = g.stores.activity.recent(p.username, 10);
      print(`  last ${recent.length} requests:`);
      for (const a of recent) {
        const answer = a.finalAnswer.replace(/\s+/g, ' ');
        print(`    ${formatTime(a.createdAt)}  ${a.ip}  ${a.processingTime.toFixed(2)} s  ${Object.keys(a.aiResponses).join(',') || 'no answer'}  ${answer.length > 60 ? `${answer.slice(0, 60)}...` : answer}`);
      }
    }),
});

export const profileCommand = defineCommand<GlobalArgs>({
  command: 'profile <command>',
  describe: 'Glasses profiles: add, list, delete, report',
  builder: (y: Argv) =>
    y
      .command(addCommand)
      .command(listCommand)
      .command(deleteCommand)
      .command(reportCommand)
      .demandCommand(1, 'name a profile command: add, list, delete or report') as Argv<GlobalArgs>,
  handler: () => undefined,
});
