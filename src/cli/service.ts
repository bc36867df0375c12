/**
 * @module `aisbf service install|uninstall`: write (or remove) a systemd unit that runs the server in
 * the foreground (`Type=simple`), and print the `systemctl` commands to run — it runs none of them.
 * Type=simple because systemd then supervises the server process itself: its SIGTERM is our graceful
 * shutdown, ExecReload's SIGHUP our config reload, stdout goes to the journal, and no PID file has to
 * be handed over between processes (Type=forking would need `aisbf daemon` to exit only after its
 * child wrote it, and PIDFile= to track that file's format).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { PACKAGE_ROOT } from '../package-info.js';
import { CliError, describeFsError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { defaultConfigDir } from './resolve-config-dir.js';

export const UNIT_NAME = 'aisbf.service';
/** Read by the unit when present: provider keys and other environment, `NAME=value` per line. */
export const ENV_FILE_NAME = 'aisbf.env';

type Scope = 'user' | 'system';

interface ServiceArgs extends GlobalArgs {
  user?: boolean;
  system?: boolean;
  'unit-dir'?: string;
}
interface InstallArgs extends ServiceArgs {
  force: boolean;
  'run-as'?: string;
}

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** --user or --system; neither: system for root, user for everyone else. */
function scopeOf(args: ServiceArgs): Scope {
  if (args.user && args.system) throw new CliError('choose one of --user and --system');
  if (args.user) return 'user';
  if (args.system) return 'system';
  return process.getuid?.() === 0 ? 'system' : 'user';
}

function unitDir(scope: Scope, args: ServiceArgs, env: NodeJS.ProcessEnv = process.env): string {
  if (args['unit-dir'] !== undefined) {
    if (!args['unit-dir'].trim() || args['unit-dir'].includes('\0')) throw new CliError('--unit-dir needs a directory');
    return resolve(args['unit-dir']);
  }
  if (scope === 'system') return '/etc/systemd/system';
  return join(env.XDG_CONFIG_HOME ? resolve(env.XDG_CONFIG_HOME) : join(homedir(), '.config'), 'systemd', 'user');
}

/** A path or word for a unit file line: no control characters; `%` (systemd's specifiers) doubled. */
function unitValue(s: string, what: string): string {
  if (/[\0-\x1f\x7f]/.test(s)) throw new CliError(`${what} contains a control character: ${JSON.stringify(s)}`);
  return s.replace(/%/g, '%%');
}

/** One ExecStart= (or Environment=) word: `$` doubled (variable expansion), quoted when it holds a space, quote or backslash. */
function execArg(s: string, what: string): string {
  const v = unitValue(s, what).replace(/\$/g, '$$$$');
  return /[\s"'\\;]/.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

/** NAME=value for Environment=, quoted as a whole when the value holds a space, quote or backslash. */
function envAssignment(name: string, value: string): string {
  const v = `${name}=${unitValue(value, name)}`;
  return /[\s"'\\]/.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : v;
}

export interface UnitOptions {
  scope: Scope;
  configDir: string;
  node: string;
  bin: string;
  /** The account a system unit runs as (ignored for a user unit: it runs as its user). */
  runAs?: string;
}

/** The unit file's text. */
export function renderUnit(o: UnitOptions): string {
  const dir = unitValue(o.configDir, 'the config dir');
  const lines = [
    '# Written by `aisbf service install`; `aisbf service uninstall` removes it.',
    '[Unit]',
    'Description=aisbf: one OpenAI-compatible API for every AI provider',
    'After=network-online.target',
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${execArg(o.node, 'the node path')} ${execArg(o.bin, 'the aisbf path')} serve --config ${execArg(o.configDir, 'the config dir')}`,
    // SIGHUP re-reads the config in place (aisbf reload does the same).
    'ExecReload=/bin/kill -HUP $MAINPID',
    `Environment=${envAssignment('AISBF_CONFIG_DIR', o.configDir)}`,
    // Optional ("-"): provider keys live here, not in the unit, which anyone may read.
    `EnvironmentFile=-${dir}/${ENV_FILE_NAME}`,
    `WorkingDirectory=${dir}`,
    // The server drains requests for server.shutdown_grace_seconds (default 10) after SIGTERM.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'Restart=on-failure',
    'RestartSec=2',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
  ];
  if (o.scope === 'system') lines.push(`User=${unitValue(o.runAs ?? 'root', 'the user name')}`);
  lines.push('', '[Install]', `WantedBy=${o.scope === 'system' ? 'multi-user.target' : 'default.target'}`, '');
  return lines.join('\n');
}

function systemctl(scope: Scope): string {
  return scope === 'user' ? 'systemctl --user' : 'sudo systemctl';
}

function journalctl(scope: Scope): string {
  return scope === 'user' ? 'journalctl --user -u aisbf -f' : 'journalctl -u aisbf -f';
}

/** The config dir the unit names: no owner check (root installing a unit for a user's dir is the point). */
function serviceConfigDir(raw: string | undefined): string {
  if (raw !== undefined && (!raw.trim() || raw.includes('\0'))) throw new CliError('--config needs a directory');
  const dir = raw !== undefined ? resolve(raw) : defaultConfigDir();
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CliError(`--config ${dir} is a file, not a directory; the config dir is the directory that holds aisbf.json`);
  return dir;
}

function writeFailure(err: unknown, path: string, scope: Scope, configDir: string): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const msg = describeFsError(err, path, 'write the unit file');
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return new CliError(msg);
  const instead =
    scope === 'system'
      ? `a system unit needs root: run "sudo aisbf service install --system --config ${configDir}", or install a user unit instead: "aisbf service install --user"`
      : `choose another directory with --unit-dir, or install a system unit as root: "sudo aisbf service install --system --config ${configDir}"`;
  return new CliError(`${msg}\n${instead}`);
}

const installCommand = defineCommand<InstallArgs>({
  command: 'install',
  describe: 'Write the systemd unit (runs "aisbf serve" in the foreground) and print the systemctl commands to run',
  builder: (y: Argv) =>
    withScope(y)
      .option('force', { type: 'boolean', default: false, describe: 'Replace a unit file that differs' })
      .option('run-as', { type: 'string', describe: 'The account a --system unit runs as (default: $SUDO_USER, else you)' })
      .example('$0 service install --user', 'A user unit in ~/.config/systemd/user (no root needed)')
      .example('sudo $0 service install --system --config /srv/aisbf --run-as aisbf', 'A system unit in /etc/systemd/system') as Argv<InstallArgs>,
  handler: (args) => {
    const scope = scopeOf(args);
    const configDir = serviceConfigDir(args.config);
    const runAs = scope === 'system' ? (args['run-as'] ?? process.env.SUDO_USER ?? userInfo().username) : undefined;
    const text = renderUnit({ scope, configDir, node: process.execPath, bin: join(PACKAGE_ROOT, 'bin', 'aisbf.js'), runAs });
    const dir = unitDir(scope, args);
    const path = join(dir, UNIT_NAME);
    let old: string | undefined;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      // Not there yet (or unreadable: the write below says why).
    }
    if (old === text) {
      print(`${path} is already up to date`);
    } else {
      if (old !== undefined && !args.force) throw new CliError(`${path} exists and differs from the unit aisbf would write; --force replaces it`);
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path, text, { mode: 0o644 });
      } catch (err) {
        throw writeFailure(err, (err as NodeJS.ErrnoException).path ?? path, scope, configDir);
      }
      print(`wrote ${path}`);
    }
    print(`  runs:   ${process.execPath} ${join(PACKAGE_ROOT, 'bin', 'aisbf.js')} serve --config ${configDir}${runAs ? ` as ${runAs}` : ''}`);
    print(`  keys:   put NAME=value lines (e.g. OPENAI_API_KEY=…) in ${join(configDir, ENV_FILE_NAME)} and chmod 600 it`);
    print();
    print('Then run (aisbf runs none of these):');
    print(`  ${systemctl(scope)} daemon-reload`);
    print(`  ${systemctl(scope)} enable --now aisbf`);
    print(`  ${systemctl(scope)} status aisbf`);
    print(`  ${journalctl(scope)}`);
    if (scope === 'user') print(`  loginctl enable-linger ${userInfo().username}   # keep it running after you log out`);
  },
});

const uninstallCommand = defineCommand<ServiceArgs>({
  command: 'uninstall',
  describe: 'Remove the systemd unit (and its enable link) and print the systemctl commands to run',
  builder: (y: Argv) => withScope(y).example('$0 service uninstall --user', 'Remove the user unit') as Argv<ServiceArgs>,
  handler: (args) => {
    const scope = scopeOf(args);
    const dir = unitDir(scope, args);
    const path = join(dir, UNIT_NAME);
    const target = scope === 'system' ? 'multi-user.target' : 'default.target';
    const link = join(dir, `${target}.wants`, UNIT_NAME);
    if (!existsSync(path)) {
      print(`no unit at ${path}; nothing to remove`);
      return;
    }
    print(`run first, if it is running:  ${systemctl(scope)} stop aisbf`);
    for (const p of [link, path]) {
      try {
        lstatSync(p);
      } catch {
        continue;
      }
      try {
        rmSync(p);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === 'EACCES' || code === 'EPERM' ? (scope === 'system' ? '\nrun it as root: "sudo aisbf service uninstall --system"' : '') : '';
        throw new CliError(`${describeFsError(err, p, 'remove')}${hint}`);
      }
      print(`removed ${p}`);
    }
    print('Then run:');
    print(`  ${systemctl(scope)} daemon-reload`);
  },
});

function withScope<T>(y: Argv<T>): Argv<T & ServiceArgs> {
  return y
    .option('user', { type: 'boolean', describe: 'A user unit (~/.config/systemd/user); the default unless you are root' })
    .option('system', { type: 'boolean', describe: 'A system unit (/etc/systemd/system); the default for root' })
    .option('unit-dir', { type: 'string', describe: 'Write the unit here instead (packaging, tests)' })
    .conflicts('user', 'system') as Argv<T & ServiceArgs>;
}

export const serviceCommand = defineCommand<GlobalArgs>({
  command: 'service <command>',
  describe: 'Run aisbf as a systemd service: install or uninstall its unit file',
  builder: (y: Argv) =>
    y
      .command(installCommand)
      .command(uninstallCommand)
      .demandCommand(1, 'name a service command: install or uninstall')
      .example('$0 service install --user', 'Write ~/.config/systemd/user/aisbf.service and print the systemctl commands')
      .epilogue('macOS: see "Running as a service" in the README for a launchd plist.') as Argv<GlobalArgs>,
  handler: () => undefined,
});
