/**
 * @module `aisbf blacklist add <ip> [--reason]|remove <ip>|list`: IPs refused (403) on every glasses
 * route. Edits the SQLite file directly; the daemon checks the table on each request, so a change
 * applies at once, daemon running or not.
 */
import { isIP } from 'node:net';
import type { Argv } from 'yargs';
import { CliError } from './cli-error.js';
import { defineCommand, type GlobalArgs } from './cli-options.js';
import { formatTime, withGlasses } from './profile.js';

interface IpArgs extends GlobalArgs {
  ip: string;
  reason?: string;
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Same normalisation as the store (IPv4-mapped IPv6 → IPv4, lower case), without loading it. */
function checkIp(raw: unknown): string {
  const t = String(raw).trim().toLowerCase();
  const ip = t.startsWith('::ffff:') && t.includes('.') ? t.slice(7) : t;
  if (!isIP(ip)) throw new CliError(`"${String(raw)}" is not an IPv4 or IPv6 address`);
  return ip;
}

const addCommand = defineCommand<IpArgs>({
  command: 'add <ip>',
  describe: 'Refuse an IP on every glasses route (403)',
  builder: (y: Argv) =>
    y
      .positional('ip', { type: 'string' })
      .option('reason', { type: 'string', describe: 'Why (shown by "blacklist list")' })
      .example('$0 blacklist add 203.0.113.7 --reason "scanning"', 'Block an address') as Argv<IpArgs>,
  handler: (args) =>
    withGlasses(args, (g) => {
      const ip = checkIp(args.ip);
      g.stores.blacklist.add(ip, args.reason?.trim() || 'Manual blacklist');
      print(`blacklisted ${ip}`);
    }),
});

const removeCommand = defineCommand<IpArgs>({
  command: 'remove <ip>',
  describe: 'Lift the block on an IP',
  builder: (y: Argv) => y.positional('ip', { type: 'string' }) as Argv<IpArgs>,
  handler: (args) =>
    withGlasses(args, (g) => {
      const ip = checkIp(args.ip);
      if (!g.stores.blacklist.remove(ip)) throw new CliError(`${ip} is not blacklisted`);
      print(`removed ${ip} from the blacklist`);
    }),
});

const listCommand = defineCommand<GlobalArgs>({
  command: 'list',
  describe: 'List blacklisted IPs',
  handler: (args) =>
    withGlasses(args, (g) => {
      const all = g.stores.blacklist.list();
      if (all.length === 0) return print('no blacklisted IPs');
      const width = Math.max(2, ...all.map((e) => e.ip.length));
      for (const e of all) print(`${e.ip.padEnd(width)}  ${formatTime(e.blacklistedAt)}  ${e.reason}`);
    }),
});

export const blacklistCommand = defineCommand<GlobalArgs>({
  command: 'blacklist <command>',
  describe: 'Glasses IP blacklist: add, remove, list',
  builder: (y: Argv) =>
    y.command(addCommand).command(removeCommand).command(listCommand).demandCommand(1, 'name a blacklist command: add, remove or list') as Argv<GlobalArgs>,
  handler: () => undefined,
});
