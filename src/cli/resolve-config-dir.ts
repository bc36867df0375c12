/**
 * @module Which config dir a command works on (`--config`, else $AISBF_CONFIG_DIR, else ~/.aisbf), and
 * whether it can be one: a directory, owned by the user running aisbf. Imports nothing but node, so
 * `status` and `stop` can find the server without loading the config schemas.
 */
import { statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { CliError, describeFsError } from './cli-error.js';

/** $AISBF_CONFIG_DIR, else ~/.aisbf (the same rule as config/load-config.ts's defaultConfigDir). */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.AISBF_CONFIG_DIR ? resolve(env.AISBF_CONFIG_DIR) : join(homedir(), '.aisbf');
}

function whoAmI(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/**
 * `--config DIR`, else $AISBF_CONFIG_DIR, else ~/.aisbf — absolute. When it exists it must be a
 * directory owned by this user: a server writing its PID file, database and logs into someone else's
 * dir (a `sudo aisbf` that kept $HOME, say) leaves files its owner then cannot manage.
 */
export function resolveConfigDir(raw: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (raw !== undefined && raw.trim() === '') throw new CliError('--config needs a directory');
  if (raw?.includes('\0')) throw new CliError('--config contains a NUL byte');
  const dir = raw !== undefined ? resolve(raw) : defaultConfigDir(env);
  const named = raw !== undefined ? `--config ${dir}` : env.AISBF_CONFIG_DIR ? `AISBF_CONFIG_DIR=${dir}` : `the config dir ${dir}`;
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return dir;
    throw new CliError(describeFsError(err, dir, 'read the config dir'));
  }
  if (!st.isDirectory()) {
    throw new CliError(`${named} is a file, not a directory; the config dir is the directory that holds aisbf.json, providers.json and the rest (e.g. --config ~/.aisbf)`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new CliError(
      `${named} belongs to another user (uid ${st.uid}) but aisbf runs as ${whoAmI()} (uid ${uid}); run aisbf as its owner, use a config dir of your own (--config DIR), or take it over: sudo chown -R ${uid} ${dir}`,
    );
  }
  return dir;
}
