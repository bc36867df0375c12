import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_VERSION } from '../../src/config/config-version.js';
import { assertBuilt, runCli, STACK_LINE } from '../cli/cli-harness.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'aisbf-migrate-'));
  dirs.push(d);
  return d;
};
beforeAll(() => assertBuilt());
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const json = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;

/** A config dir as an aisbf from before versioning wrote it: no `version` anywhere. */
async function oldConfigDir(): Promise<string> {
  const dir = join(tmp(), 'cfg');
  expect((await runCli(['config', 'init', '--config', dir])).code).toBe(0);
  for (const f of ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json']) {
    const { version: _v, ...rest } = json(dir, f);
    writeFileSync(join(dir, f), JSON.stringify(rest, null, 2));
  }
  return dir;
}

describe('config versions and aisbf config migrate', () => {
  it('a config without version fields (older aisbf) still loads', async () => {
    const dir = await oldConfigDir();
    const r = await runCli(['config', 'check', '--config', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('config OK');
  });

  it('migrate stamps every file with the current version, keeps .bak copies, and the result loads', async () => {
    const dir = await oldConfigDir();
    const before = readFileSync(join(dir, 'autoselect.json'), 'utf8');
    const r = await runCli(['config', 'migrate', '--config', dir]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json']) {
      expect(json(dir, f).version, f).toBe(CONFIG_VERSION);
      expect(r.stdout).toContain(`migrated ${join(dir, f)}: version none -> ${CONFIG_VERSION}`);
    }
    expect(readFileSync(join(dir, 'autoselect.json.bak'), 'utf8')).toBe(before);
    const { version: _v, ...rest } = json(dir, 'autoselect.json');
    expect(rest).toEqual(JSON.parse(before));
    expect((await runCli(['config', 'check', '--config', dir])).code).toBe(0);
    const again = await runCli(['config', 'migrate', '--config', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`is already at version ${CONFIG_VERSION}`);
  });

  it('a file from a newer aisbf is refused by name, with what to do, and migrate writes nothing', async () => {
    const dir = await oldConfigDir();
    writeFileSync(join(dir, 'rotations.json'), JSON.stringify({ ...json(dir, 'rotations.json'), version: CONFIG_VERSION + 1 }));
    const aisbfBefore = readFileSync(join(dir, 'aisbf.json'), 'utf8');
    const check = await runCli(['config', 'check', '--config', dir]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`rotations.json: version: version ${CONFIG_VERSION + 1} was written by a newer aisbf`);
    expect(check.stderr).toContain('upgrade aisbf');
    const m = await runCli(['config', 'migrate', '--config', dir]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('nothing migrated: rotations.json');
    expect(readFileSync(join(dir, 'aisbf.json'), 'utf8')).toBe(aisbfBefore);
    for (const r of [check, m]) expect(r.stderr).not.toMatch(STACK_LINE);
  });
});

describe('a config dir that cannot be one', () => {
  it('--config naming a file is a clear error', async () => {
    const file = join(tmp(), 'aisbf.json');
    writeFileSync(file, '{}');
    for (const cmd of [['status'], ['config', 'check'], []]) {
      const r = await runCli([...cmd, '--config', file]);
      expect(r.code, cmd.join(' ')).toBe(1);
      expect(r.stderr).toContain(`--config ${file} is a file, not a directory`);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it("a config dir owned by another user is a clear error naming both", async () => {
    // As root: a dir we give away; otherwise a dir root owns.
    let dir = '/';
    if (process.getuid?.() === 0) {
      dir = tmp();
      chownSync(dir, 65534, 65534);
    }
    for (const cmd of [['status'], ['daemon'], ['config', 'check']]) {
      const r = await runCli([...cmd, '--config', dir]);
      expect(r.code, cmd.join(' ')).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`--config ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} belongs to another user \\(uid \\d+\\) but aisbf runs as .* \\(uid \\d+\\)`));
      expect(r.stderr).toContain('chown');
    }
  });
});
