/**
 * @module The users and API-key tables of the config dir's database, for one `aisbf user|key`
 * command. Opened directly (WAL makes that safe while the daemon runs); every change bumps the auth
 * revision, which a running daemon checks on each request, so it takes effect there at once.
 */
import type { GlobalArgs } from './cli-options.js';
import type { ApiKeyStore } from '../store/api-keys.js';
import type { UserStore } from '../store/users.js';
import { CliError, describeFsError } from './cli-error.js';
import { loadConfigOrExplain, resolveConfigDir } from './config-dir.js';

export interface AuthDb {
  users: UserStore;
  keys: ApiKeyStore;
  authEnabled: boolean;
}

export async function withAuthDb<T>(args: GlobalArgs, fn: (a: AuthDb) => T | Promise<T>): Promise<T> {
  const [{ openDatabase }, { AuthRevision }, { UserStore }, { ApiKeyStore }] = await Promise.all([
    import('../store/db.js'),
    import('../store/auth-revision.js'),
    import('../store/users.js'),
    import('../store/api-keys.js'),
  ]);
  const config = loadConfigOrExplain(resolveConfigDir(args.config));
  const path = config.resolvePath(config.aisbf.storage.path);
  let db;
  try {
    db = openDatabase(path);
  } catch (err) {
    throw new CliError(describeFsError(err, path, 'open the database'));
  }
  try {
    const revision = new AuthRevision(db);
    return await fn({ users: new UserStore(db, revision), keys: new ApiKeyStore(db, revision), authEnabled: config.aisbf.auth.enabled });
  } finally {
    db.close();
  }
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + 'Z';
}
