import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const REPORTER = join(ROOT, 'tests', 'helpers', 'summary-reporter.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs vitest with our reporter on a tiny project of the given files; returns its exit code and closing line. */
async function runFixture(files: Record<string, string>): Promise<{ code: number | null; line: string; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-reporter-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'vitest.config.mjs'), 'export default { test: { include: ["*.test.mjs"] } };\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const child = spawn(process.execPath, [VITEST, 'run', '--root', dir, '--reporter', REPORTER], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  const line = out.split('\n').filter((l) => l.startsWith('tests: ')).pop() ?? '';
  return { code, line, out };
}

const PASSING = 'import { it, expect } from "vitest";\nit("passes", () => expect(1).toBe(1));\n';

describe('the closing summary line', () => {
  it('counts a throwing beforeAll as a failure, not as 0 failed', async () => {
    const r = await runFixture({
      'ok.test.mjs': PASSING,
      'hook.test.mjs': 'import { beforeAll, it, expect } from "vitest";\nbeforeAll(() => { throw new Error("setup broke"); });\nit("a", () => expect(1).toBe(1));\nit("b", () => expect(1).toBe(1));\n',
    });
    expect(r.code).not.toBe(0);
    expect(r.line).toMatch(/^tests: 1 passed, 1 failed, 2 skipped \(1 failed hook or file\)$/);
  });

  it('counts a file that cannot be imported as a failure', async () => {
    const r = await runFixture({ 'ok.test.mjs': PASSING, 'broken.test.mjs': 'import { nothing } from "./does-not-exist.mjs";\n' });
    expect(r.code).not.toBe(0);
    expect(r.line).toMatch(/^tests: 1 passed, 1 failed/);
  });

  it('counts an unhandled error as a failure', async () => {
    const r = await runFixture({
      'leak.test.mjs': 'import { it, expect } from "vitest";\nit("leaks", () => { setTimeout(() => { throw new Error("late"); }, 0); expect(1).toBe(1); });\nit("waits", async () => { await new Promise((r) => setTimeout(r, 50)); });\n',
    });
    expect(r.code).not.toBe(0);
    expect(r.line).toMatch(/^tests: 2 passed, 1 failed \(1 unhandled error\)$/);
  });

  it('says 0 failed only when the run passed', async () => {
    const r = await runFixture({ 'ok.test.mjs': PASSING });
    expect(r.code).toBe(0);
    expect(r.line).toBe('tests: 1 passed, 0 failed');
  });
});
