import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';

const README = readFileSync(resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const FILES = ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json'] as const;

/** The ```json block that follows the README's `**<file>**` paragraph. */
function exampleFor(file: string): string {
  const at = README.indexOf(`**${file}**`);
  if (at < 0) throw new Error(`README.md has no **${file}** example`);
  const m = /```json\n([\s\S]*?)```/.exec(README.slice(at));
  if (!m) throw new Error(`no json block after **${file}**`);
  return m[1]!;
}

describe("the README's config examples", () => {
  it('load together, as written, through the config loader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-readme-'));
    try {
      for (const f of FILES) writeFileSync(join(dir, f), exampleFor(f));
      const cfg = loadConfig({ dir, env: {}, init: false });
      expect(Object.keys(cfg.providers.providers).length).toBeGreaterThan(0);
      expect(Object.keys(cfg.rotations.rotations).length).toBeGreaterThan(0);
      expect(Object.keys(cfg.autoselect).length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cite no file outside the repository', () => {
    expect(README).not.toMatch(/\.\.\/shared|DESIGN\.md|CONTRACTS\.md/);
  });
});
