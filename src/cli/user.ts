/**
 * @module `aisbf user add <name> [--role admin|user] [--password-stdin]`, `user list`,
 * `user delete <name>`, `user passwd <name> [--password-stdin]` (CONTRACTS §7.2 item 20). Passwords
 * come from stdin (`--password-stdin`) or a no-echo prompt on a terminal — never from the command line,
 * where `ps` and shell history would keep them.
 */
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { formatTime, print, withAuthDb } from './auth-db.js';

interface NameArgs extends GlobalArgs {
  name: string;
}
interface AddArgs extends NameArgs {
  role: 'admin' | 'user';
  'password-stdin': boolean;
}
interface PasswdArgs extends NameArgs {
  'password-stdin': boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the end of the line, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new CliError('cancelled', 130));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readNewPassword(fromStdin: boolean): Promise<string> {
  const { passwordProblem } = await import('../identity/passwords.js');
  let password: string;
  if (fromStdin) password = await readStdin();
  else if (process.stdin.isTTY) {
    password = await promptHidden('Password: ');
    if ((await promptHidden('Repeat the password: ')) !== password) throw new CliError('the passwords do not match');
  } else throw new CliError('no terminal to ask for a password: pipe it in with --password-stdin');
  const problem = passwordProblem(password);
  if (problem) throw new CliError(problem);
  return password;
}

async function checkName(raw: unknown): Promise<string> {
  const { USER_NAME_RE } = await import('../store/users.js');
  const name = String(raw);
  if (!USER_NAME_RE.test(name)) throw new CliError(`"${name}" is not a valid user name: letters, digits and _ . @ - (up to 64)`);
  return name;
}

const addCommand = defineCommand<AddArgs>({
  command: 'add <name>',
  describe: 'Add a user (asks for the password, or reads it with --password-stdin)',
  builder: (y: Argv) =>
    y
      .positional('name', { type: 'string', describe: 'Letters, digits and _ . @ - (up to 64)' })
      .option('role', { choices: ['admin', 'user'] as const, default: 'user' as const, describe: 'admin may use /admin/* and manage keys' })
      .option('password-stdin', { type: 'boolean', default: false, describe: 'Read the password from stdin' })
      .example('$0 user add alice --role admin', 'Add an admin (prompts for the password)')
      .example('printf %s "$PW" | $0 user add ci-bot --password-stdin', 'Scripted') as Argv<AddArgs>,
  handler: async (args) => {
    const name = await checkName(args.name);
    const password = await readNewPassword(args['password-stdin']);
    const { hashPassword } = await import('../identity/passwords.js');
    const hash = await hashPassword(password);
    await withAuthDb(args, ({ users, authEnabled }) => {
      if (!users.add(name, args.role, hash)) throw new CliError(`user "${name}" already exists (aisbf user passwd ${name} changes the password)`);
      print(`added ${args.role} ${name}`);
      if (!authEnabled) print('note: auth is off in aisbf.json (auth.enabled: false); logins work, but no route asks for a token yet');
    });
  },
});

const listCommand = defineCommand<GlobalArgs>({
  command: 'list',
  describe: 'List users',
  handler: (args) =>
    withAuthDb(args, ({ users }) => {
      const all = users.list();
      if (all.length === 0) return print('no users (aisbf user add <name> --role admin creates the first)');
      const width = Math.max(4, ...all.map((u) => u.name.length));
      print(`${'NAME'.padEnd(width)}  ROLE   CREATED            PASSWORD CHANGED`);
      for (const u of all) print(`${u.name.padEnd(width)}  ${u.role.padEnd(5)}  ${formatTime(u.createdAt)}  ${formatTime(u.updatedAt)}`);
    }),
});

const deleteCommand = defineCommand<NameArgs>({
  command: 'delete <name>',
  describe: "Delete a user (their tokens stop working at once; their keys stay until revoked)",
  builder: (y: Argv) => y.positional('name', { type: 'string' }) as Argv<NameArgs>,
  handler: (args) =>
    withAuthDb(args, ({ users }) => {
      const name = String(args.name);
      if (!users.delete(name)) throw new CliError(`no user "${name}" (aisbf user list shows them)`);
      print(`deleted ${name}`);
    }),
});

const passwdCommand = defineCommand<PasswdArgs>({
  command: 'passwd <name>',
  describe: "Change a user's password (their current tokens stop working)",
  builder: (y: Argv) =>
    y.positional('name', { type: 'string' }).option('password-stdin', { type: 'boolean', default: false, describe: 'Read the password from stdin' }) as Argv<PasswdArgs>,
  handler: async (args) => {
    const name = String(args.name);
    await withAuthDb(args, ({ users }) => {
      if (!users.get(name)) throw new CliError(`no user "${name}" (aisbf user list shows them)`);
    });
    const password = await readNewPassword(args['password-stdin']);
    const { hashPassword } = await import('../identity/passwords.js');
    const hash = await hashPassword(password);
    await withAuthDb(args, ({ users }) => {
      if (!users.setPassword(name, hash)) throw new CliError(`no user "${name}"`);
      print(`password of ${name} changed`);
    });
  },
});

export const userCommand = defineCommand<GlobalArgs>({
  command: 'user <command>',
  describe: 'Users of a shared gateway: add, list, delete, passwd',
  builder: (y: Argv) =>
    y.command(addCommand).command(listCommand).command(deleteCommand).command(passwdCommand).demandCommand(1, 'name a user command: add, list, delete or passwd') as Argv<GlobalArgs>,
  handler: () => undefined,
});
