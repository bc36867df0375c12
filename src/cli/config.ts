/**
 * @module `aisbf config path|init|check|migrate`: where the config lives, write the shipped defaults there
 * (never over an existing file without `--force`), and validate it, printing every problem with its
 * file and JSON path.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Argv } from 'yargs';
import { ConfigError, ensureConfigDir, formatProblem, loadConfig } from '../config/load-config.js';
import { CliError, describeFsError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { LOG_FILE_NAME, resolveConfigDir, resolveLogDir } from './config-dir.js';
import { PID_FILE_NAME, STATE_FILE_NAME } from './pid-file.js';

const FILES = ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json', 'autoselect.md', 'ocr.md'] as const;

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface PathArgs extends GlobalArgs {
  all: boolean;
}
interface InitArgs extends GlobalArgs {
  force: boolean;
}

const pathCommand = defineCommand<PathArgs>({
  command: 'path',
  describe: 'Print the config dir (--all: and every file in it)',
  builder: (y: Argv) =>
    y
      .option('all', { type: 'boolean', default: false, describe: 'Also list the config files, PID file and log dir' })
      .example('$0 config path', 'Prints e.g. /home/me/.aisbf')
      .example('$EDITOR "$($0 config path)/providers.json"', 'Edit a config file') as Argv<PathArgs>,
  handler: (args) => {
    const dir = resolveConfigDir(args.config);
    print(dir);
    if (!args.all) return;
    if (!existsSync(dir)) print('  (does not exist yet: "aisbf config init" or the first start creates it)');
    for (const f of FILES) {
      const missing = f.endsWith('.md') ? '  (missing: the shipped default is used)' : '  (missing: "aisbf config init" writes the default)';
      print(`  ${join(dir, f)}${existsSync(join(dir, f)) ? '' : missing}`);
    }
    print(`  ${join(dir, PID_FILE_NAME)}  (the PID, while a server runs; ${STATE_FILE_NAME} beside it says where it answers)`);
    print(`  ${join(dir, 'logs', LOG_FILE_NAME)}  (the daemon's log, unless logging.dir says otherwise)`);
  },
});

const initCommand = defineCommand<InitArgs>({
  command: 'init',
  describe: 'Write the shipped default config files into the config dir',
  builder: (y: Argv) =>
    y
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite existing files with the defaults' })
      .example('$0 config init', 'Create ~/.aisbf with the defaults; existing files are kept')
      .example('$0 config init --config ./my-aisbf --force', 'Reset a config dir to the defaults') as Argv<InitArgs>,
  handler: (args) => {
    const dir = resolveConfigDir(args.config);
    let written: string[];
    try {
      written = ensureConfigDir(dir, args.force);
    } catch (err) {
      throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? dir, 'write the config into'));
    }
    const kept = FILES.filter((f) => !written.includes(f));
    for (const f of written) print(`wrote ${join(dir, f)}`);
    if (kept.length) print(`kept ${kept.length} existing file${kept.length === 1 ? '' : 's'} (${kept.join(', ')}); --force overwrites them`);
  },
});

const checkCommand = defineCommand<GlobalArgs>({
  command: 'check',
  describe: 'Validate the config; print every problem with its file and JSON path',
  builder: (y: Argv) =>
    y
      .example('$0 config check', 'Validate ~/.aisbf')
      .example('$0 config check --config ./my-aisbf && $0 reload', 'Reload only a valid config')
      .epilogue('Exit codes: 0 valid; 1 problems found (each printed as "file: json.path: what is wrong").') as Argv<GlobalArgs>,
  handler: (args) => {
    const dir = resolveConfigDir(args.config);
    if (!existsSync(dir)) throw new CliError(`no config dir at ${dir} yet; "aisbf config init" writes the defaults there`);
    let config;
    try {
      config = loadConfig({ dir, init: false });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? dir, 'read the config in'));
      const n = err.problems.length;
      throw new CliError(`${n} problem${n === 1 ? '' : 's'} in ${dir}:\n${err.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    }
    resolveLogDir(config);
    const count = (o: object) => Object.keys(o).length;
    print(`config OK: ${dir} (${count(config.providers.providers)} providers, ${count(config.rotations.rotations)} rotations, ${count(config.autoselect)} autoselect)`);
    for (const n of config.notices) print(`  note: ${formatProblem(n)}`);
    for (const [id, name] of config.missingKeyEnv) print(`  note: provider "${id}" has no key until ${name} is set (clients may send their own with x-aisbf-provider-key)`);
  },
});

const migrateCommand = defineCommand<GlobalArgs>({
  command: 'migrate',
  describe: 'Rewrite the config files to the current format version, keeping each old file as <file>.bak',
  builder: (y: Argv) =>
    y
      .example('$0 config migrate', 'Upgrade ~/.aisbf after installing a newer aisbf')
      .epilogue('Files already at the current version are left untouched. Nothing is written unless every file can be migrated.') as Argv<GlobalArgs>,
  handler: async (args) => {
    const dir = resolveConfigDir(args.config);
    if (!existsSync(dir)) throw new CliError(`no config dir at ${dir} yet; "aisbf config init" writes the current defaults there`);
    const { MigrateError, migrateConfigDir } = await import('../config/migrate-config.js');
    let results;
    try {
      results = migrateConfigDir(dir);
    } catch (err) {
      if (err instanceof MigrateError) throw new CliError(`nothing migrated: ${err.message}`);
      throw new CliError(describeFsError(err, (err as NodeJS.ErrnoException).path ?? dir, 'migrate the config in'));
    }
    for (const r of results) {
      if (r.backup) print(`migrated ${join(dir, r.file)}: version ${r.from || 'none'} -> ${r.to} (old file kept as ${r.backup})`);
      else print(`${join(dir, r.file)} is already at version ${r.to}`);
    }
    if (!results.length) print(`no config files in ${dir}; the shipped defaults (current version) are used`);
  },
});

export const configCommand = defineCommand<GlobalArgs>({
  command: 'config',
  describe: 'Config tools: path, init, check, migrate',
  builder: (y: Argv) =>
    y
      .command(pathCommand)
      .command(initCommand)
      .command(checkCommand)
      .command(migrateCommand)
      .demandCommand(1, 'name a config command: path, init, check or migrate')
      .example('$0 config check', 'Validate the config') as Argv<GlobalArgs>,
  handler: () => undefined,
});
