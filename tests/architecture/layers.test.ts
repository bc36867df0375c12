/**
 * The layer rule (.dependency-cruiser.cjs, docs/architecture.md) holds on the tree, and the check
 * really fails on an upward import and on an import cycle planted in a copy of src/.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(depcruise, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** A copy of src/ and the configs in a temp dir, to plant violations in. */
function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-layers-'));
  cpSync(join(root, 'src'), join(dir, 'src'), { recursive: true });
  for (const f of ['tsconfig.json', '.dependency-cruiser.cjs']) cpSync(join(root, f), join(dir, f));
  dirs.push(dir);
  return dir;
}

// One cruise takes ~5 s of CPU; on a loaded 2-core CI box its wall time can pass vitest's default.
const CRUISE_TIMEOUT_MS = 90_000;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('layers', () => {
  it('no import in src/ runs up a layer or in a circle', async () => {
    const r = await cruise(root);
    expect(r.out).toContain('no dependency violations found');
    expect(r.code).toBe(0);
  }, CRUISE_TIMEOUT_MS);

  // One copy with three plants (one cruise, not three): each must be reported by its rule.
  it('fails on planted violations: an upward import, an upward type import, a cycle', async () => {
    const dir = copyTree();
    writeFileSync(join(dir, 'src', 'routing', 'planted-upward.ts'), "import { HttpError } from '../server/errors.js';\nexport const E = HttpError;\n");
    writeFileSync(join(dir, 'src', 'providers', 'planted-type.ts'), "import type { ChatResult } from '../pipeline/run-request.js';\nexport type R = ChatResult;\n");
    writeFileSync(join(dir, 'src', 'tokens', 'planted-a.ts'), "import { b } from './planted-b.js';\nexport const a = () => b;\n");
    writeFileSync(join(dir, 'src', 'tokens', 'planted-b.ts'), "import { a } from './planted-a.js';\nexport const b = () => a;\n");
    const r = await cruise(dir);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/no-upward-from-routing: src\/routing\/planted-upward\.ts → src\/server\/errors\.ts/);
    expect(r.out).toMatch(/no-upward-from-providers: src\/providers\/planted-type\.ts → src\/pipeline\/run-request\.ts/);
    expect(r.out).toMatch(/no-circular: src\/tokens\/planted-(a|b)\.ts/);
    expect(r.out).toMatch(/x 3 dependency violations/);
  }, CRUISE_TIMEOUT_MS);
});
