import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, STACK_LINE, assertBuilt, runCli } from './cli-harness.js';

const COMMANDS = ['serve', 'daemon', 'status', 'stop', 'restart', 'reload', 'config'];

beforeAll(() => assertBuilt());

describe('aisbf --help / --version', () => {
  it('--help lists every command; each command has its own help with an example', async () => {
    const [top, ...each] = await Promise.all([runCli(['--help']), ...COMMANDS.map((c) => runCli([c, '--help']))]);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^\\s+aisbf ${c}\\b`, 'm'));
    expect(top.stdout).toContain('--config');
    each.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`aisbf ${COMMANDS[i]}`);
    });
    const config = each[COMMANDS.indexOf('config')]!.stdout;
    for (const sub of ['path', 'init', 'check']) expect(config).toContain(`aisbf config ${sub}`);
  }, 30_000);

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('an unknown command or bad option is a one-line usage error, exit 1', async () => {
    const [cmd, port] = await Promise.all([runCli(['frobnicate']), runCli(['--port', 'http', '--config', '/nonexistent-aisbf-dir'])]);
    expect(cmd.code).toBe(1);
    expect(cmd.stderr).toMatch(/^aisbf: Unknown argument: frobnicate/);
    expect(port.code).toBe(1);
    // What was typed, never "NaN".
    expect(port.stderr).toContain('--port needs a number from 0 to 65535 (got "http")');
    expect(port.stderr).not.toContain('NaN');
    for (const r of [cmd, port]) expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('a checkout that was never built says to run the build, in one line, exit 1', () => {
    // bin/aisbf.js as a clone has it: beside package.json, with no dist/ yet.
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-unbuilt-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(BIN, join(dir, 'bin', 'aisbf.js'));
      copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'aisbf.js'), '--version'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^aisbf: not built \(.*dist\/bundle\/main\.js is missing\): run "npm run build"/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(STACK_LINE);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
