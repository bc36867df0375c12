import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, STACK_LINE, assertBuilt, runCli } from './cli-harness.js';

const SHIPPED = ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json', 'autoselect.md', 'ocr.md'];
let parent: string;

beforeAll(() => {
  assertBuilt();
  parent = mkdtempSync(join(tmpdir(), 'aisbf-cli-config-'));
});
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('aisbf config', () => {
  it('path prints the config dir: --config wins over AISBF_CONFIG_DIR, which wins over ~/.aisbf', async () => {
    const a = join(parent, 'from-env');
    const b = join(parent, 'from-flag');
    const [env, flag, all] = await Promise.all([
      runCli(['config', 'path'], { env: { AISBF_CONFIG_DIR: a } }),
      runCli(['config', 'path', '--config', b], { env: { AISBF_CONFIG_DIR: a } }),
      runCli(['config', 'path', '--all', '--config', b]),
    ]);
    expect(env.code).toBe(0);
    expect(env.stdout).toBe(`${a}\n`);
    expect(flag.stdout).toBe(`${b}\n`);
    expect(all.stdout).toContain(join(b, 'aisbf.pid'));
    expect(all.stdout).toContain(join(b, 'logs', 'aisbf.log'));
    expect(existsSync(b)).toBe(false); // path never creates anything
  });

  it('init writes the shipped defaults, keeps existing files, and overwrites only with --force', async () => {
    const d = join(parent, 'init');
    const first = await runCli(['config', 'init', '--config', d]);
    expect(first.code).toBe(0);
    for (const f of SHIPPED) {
      expect(first.stdout).toContain(`wrote ${join(d, f)}`);
      expect(readFileSync(join(d, f), 'utf8')).toBe(readFileSync(join(ROOT, 'config', f), 'utf8'));
    }
    writeFileSync(join(d, 'rotations.json'), '{"rotations":{}}');
    const again = await runCli(['config', 'init', '--config', d]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('kept 6 existing files');
    expect(readFileSync(join(d, 'rotations.json'), 'utf8')).toBe('{"rotations":{}}');
    const forced = await runCli(['config', 'init', '--force', '--config', d]);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(d, 'rotations.json'), 'utf8')).toBe(readFileSync(join(ROOT, 'config', 'rotations.json'), 'utf8'));
  });

  it('check passes a valid config and lists every problem with file and JSON path otherwise', async () => {
    const d = join(parent, 'check');
    await runCli(['config', 'init', '--config', d]);
    const ok = await runCli(['config', 'check', '--config', d]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`config OK: ${d}`);

    writeFileSync(join(d, 'aisbf.json'), '{"server": {"port": "eighty"}');
    writeFileSync(join(d, 'rotations.json'), JSON.stringify({ rotations: { r: { providers: [{ provider_id: 'ghost', models: [{ name: 'm', weight: 1 }] }] } } }));
    writeFileSync(join(d, 'autoselect.json'), '{}');
    const bad = await runCli(['config', 'check', '--config', d]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`aisbf: 2 problems in ${d}:`);
    expect(bad.stderr).toMatch(/aisbf\.json: invalid JSON/);
    expect(bad.stderr).toContain('rotations.json: rotations.r.providers[0].provider_id: unknown provider id "ghost"');
    expect(bad.stderr).not.toMatch(STACK_LINE);
  });

  it('check on a dir that does not exist says how to create it', async () => {
    const d = join(parent, 'missing');
    const r = await runCli(['config', 'check', '--config', d]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`aisbf: no config dir at ${d} yet; "aisbf config init" writes the defaults there`);
  });
});
