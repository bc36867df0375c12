import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';
import { assertBuilt, runCli } from './cli-harness.js';

beforeAll(() => assertBuilt());

const lines = (s: string) => s.split('\n').filter(Boolean);

describe('aisbf completion', () => {
  it('prints a bash completion script that asks aisbf for the words', async () => {
    const r = await runCli(['completion'], { env: { SHELL: '/bin/bash' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o bashdefault -o default -F _aisbf_yargs_completions aisbf');
    expect(r.stdout).toContain('aisbf --get-yargs-completions');
  });

  it('prints a zsh script under zsh', async () => {
    const r = await runCli(['completion'], { env: { SHELL: '/usr/bin/zsh' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^#compdef aisbf/);
  });

  it('completes every command name, a command\'s subcommands and its options', async () => {
    const [top, config, status] = await Promise.all([
      runCli(['--get-yargs-completions', 'aisbf', '']),
      runCli(['--get-yargs-completions', 'aisbf', 'config', '']),
      runCli(['--get-yargs-completions', 'aisbf', 'status', '--']),
    ]);
    for (const c of COMMANDS) expect(lines(top.stdout)).toContain(c.name);
    expect(lines(top.stdout)).toContain('completion');
    expect(lines(config.stdout)).toEqual(expect.arrayContaining(['path', 'init', 'check', 'migrate']));
    expect(lines(status.stdout)).toEqual(expect.arrayContaining(['--json', '--config']));
  });
});

describe('the command table (loaded lazily)', () => {
  it("each entry's name and description match its module's, so help and completion say what runs", async () => {
    for (const entry of COMMANDS) {
      const mod = await entry.load();
      const words = [mod.command].flat().map((c) => String(c));
      expect(words, entry.name).toContain(entry.usage);
      expect(mod.describe, entry.name).toBe(entry.describe);
    }
  });

  it('aisbf --help lists every command without loading them', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^\\s+aisbf ${c.name}\\b`, 'm'));
    expect(r.stdout).toMatch(/^\s+aisbf completion\b/m);
  });
});
