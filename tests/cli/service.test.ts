import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, STACK_LINE, assertBuilt, runCli, type CliResult } from './cli-harness.js';

const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
const HAS_ANALYZE = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' }).status === 0;

beforeAll(() => assertBuilt());
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `systemd-analyze verify` on a unit file: no output about our unit means systemd accepts it. */
function verify(unit: string): string {
  const r = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  // verify also reports problems of the host's own units and missing /proc bits in containers; keep ours.
  return `${r.stdout}\n${r.stderr}`
    .split('\n')
    .filter((l) => l.includes('aisbf'))
    .join('\n');
}

function unitLines(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) m.set(line.slice(0, eq), [...(m.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return m;
}

describe('aisbf service install / uninstall', () => {
  it('writes a Type=simple user unit running the foreground server with the config dir and an environment file, and runs no systemctl', async () => {
    const units = tmp('aisbf-units-');
    const cfg = join(tmp('aisbf-svc-'), 'cfg');
    const r = await runCli(['service', 'install', '--user', '--unit-dir', units, '--config', cfg]);
    expect(r.code, r.stderr).toBe(0);
    const path = join(units, 'aisbf.service');
    const unit = readFileSync(path, 'utf8');
    const kv = unitLines(unit);
    expect(kv.get('Type')).toEqual(['simple']);
    expect(kv.get('ExecStart')).toEqual([`${process.execPath} ${BIN} serve --config ${cfg}`]);
    expect(kv.get('Environment')).toEqual([`AISBF_CONFIG_DIR=${cfg}`]);
    expect(kv.get('EnvironmentFile')).toEqual([`-${cfg}/aisbf.env`]);
    expect(kv.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(kv.get('WantedBy')).toEqual(['default.target']);
    expect(kv.has('User')).toBe(false);
    expect(r.stdout).toContain(`wrote ${path}`);
    expect(r.stdout).toContain('systemctl --user daemon-reload');
    expect(r.stdout).toContain('systemctl --user enable --now aisbf');
    // It printed the commands; it did not create the enable link systemctl would.
    expect(existsSync(join(units, 'default.target.wants'))).toBe(false);
    if (HAS_ANALYZE) expect(verify(path)).toBe('');

    // Again: unchanged, so nothing to force.
    const again = await runCli(['service', 'install', '--user', '--unit-dir', units, '--config', cfg]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already up to date');
  });

  it('writes a system unit that runs as the named user, quoting a config dir with spaces and specifiers', async () => {
    const units = tmp('aisbf-units-');
    const cfg = join(tmp('aisbf svc %h-'), 'my cfg');
    const r = await runCli(['service', 'install', '--system', '--run-as', 'aisbf', '--unit-dir', units, '--config', cfg]);
    expect(r.code, r.stderr).toBe(0);
    const path = join(units, 'aisbf.service');
    const kv = unitLines(readFileSync(path, 'utf8'));
    const escaped = cfg.replace(/%/g, '%%');
    expect(kv.get('User')).toEqual(['aisbf']);
    expect(kv.get('WantedBy')).toEqual(['multi-user.target']);
    expect(kv.get('ExecStart')).toEqual([`${process.execPath} ${BIN} serve --config "${escaped}"`]);
    expect(kv.get('Environment')).toEqual([`"AISBF_CONFIG_DIR=${escaped}"`]);
    expect(r.stdout).toContain('sudo systemctl daemon-reload');
    if (HAS_ANALYZE) expect(verify(path)).toBe('');
  });

  it('refuses to replace a unit that differs unless --force', async () => {
    const units = tmp('aisbf-units-');
    writeFileSync(join(units, 'aisbf.service'), '[Service]\nExecStart=/bin/true\n');
    const r = await runCli(['service', 'install', '--user', '--unit-dir', units]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('differs');
    expect(r.stderr).toContain('--force');
    const forced = await runCli(['service', 'install', '--user', '--unit-dir', units, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(join(units, 'aisbf.service'), 'utf8')).toContain('Type=simple');
  });

  it('without permission to write the unit, says where it tried and what to run instead', async () => {
    const units = tmp('aisbf-units-');
    chmodSync(units, 0o555);
    const home = tmp('aisbf-home-');
    chmodSync(home, 0o777);
    // As root a mode does not stop us, so run the CLI as nobody (spawn's uid) in that case.
    const asRoot = process.getuid?.() === 0;
    const r = await new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'service', 'install', '--system', '--unit-dir', units, '--config', join(home, 'cfg')], {
        env: { PATH: process.env.PATH, HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (code) => resolve({ code, stdout, stderr, ms: 0 }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot write the unit file ${join(units, 'aisbf.service')}: permission denied`);
    expect(r.stderr).toContain('sudo aisbf service install --system');
    expect(r.stderr).toContain('aisbf service install --user');
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('uninstall removes the unit and its enable link and prints what to run', async () => {
    const units = tmp('aisbf-units-');
    expect((await runCli(['service', 'install', '--user', '--unit-dir', units])).code).toBe(0);
    mkdirSync(join(units, 'default.target.wants'));
    symlinkSync(join(units, 'aisbf.service'), join(units, 'default.target.wants', 'aisbf.service'));
    const r = await runCli(['service', 'uninstall', '--user', '--unit-dir', units]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(units, 'aisbf.service'))).toBe(false);
    expect(existsSync(join(units, 'default.target.wants', 'aisbf.service'))).toBe(false);
    expect(r.stdout).toContain('systemctl --user stop aisbf');
    expect(r.stdout).toContain('systemctl --user daemon-reload');
    const none = await runCli(['service', 'uninstall', '--user', '--unit-dir', units]);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('nothing to remove');
  });

  it('the README documents launchd with a plist that runs the foreground server', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('launchctl');
    expect(readme).toMatch(/<key>ProgramArguments<\/key>[\s\S]*<string>serve<\/string>/);
  });
});
