/**
 * The npm package as a user gets it: `npm pack` of a clean copy of the project (prepack builds it),
 * `npm install -g --prefix <tmp> <tarball>` from the npm cache, then the installed `aisbf` with a
 * fresh HOME: --version, config init, a foreground start serving /health, daemon/status/stop — and
 * `npx` running it from the tarball.
 *
 * Dependencies come from the npm cache that `npm ci` filled, with `--prefer-offline` rather than
 * `--offline`: `npm ci` caches only tarballs (it installs by the lockfile's integrity), while installing
 * a tarball must read each dependency's registry document, which only the network has the first time.
 * better-sqlite3's native binary is handed to its installer as a local prebuild (the one `npm ci` built
 * here), so the test does not spend minutes recompiling SQLite.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, freePort, waitFor } from './cli-harness.js';

const work = mkdtempSync(join(tmpdir(), 'aisbf-pack-'));
const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
const children: ChildProcess[] = [];
let tarball = '';

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // npx installs the tarball under <cache>/_npx/<hash>; remove the one this test made.
  const npx = join(npmCache, '_npx');
  if (tarball && existsSync(npx)) {
    for (const d of readdirSync(npx)) {
      const pj = join(npx, d, 'package.json');
      if (existsSync(pj) && readFileSync(pj, 'utf8').includes(tarball)) rmSync(join(npx, d), { recursive: true, force: true });
    }
  }
  rmSync(work, { recursive: true, force: true });
});

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** better-sqlite3's binary as prebuild-install names a download, in a dir its installer is pointed at. */
function localPrebuild(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
  const dir = join(work, 'prebuilds');
  mkdirSync(dir);
  const name = `better-sqlite3-v${pkg.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('tar', ['czf', join(dir, name), '-C', join(ROOT, 'node_modules/better-sqlite3'), 'build/Release/better_sqlite3.node']);
  return dir;
}

describe('npm pack → npm install -g → aisbf', () => {
  it('packs what runs, installs from the cache, and the installed aisbf works', async () => {
    // A clean checkout: the project without node_modules, dist or local output (node_modules linked for the build).
    const src = join(work, 'src');
    const skip = new Set(['node_modules', 'dist', '.git', 'bench-results', 'coverage']);
    cpSync(ROOT, src, { recursive: true, filter: (p) => !skip.has(relative(ROOT, p).split('/')[0]!) });
    symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');

    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: src });
    expect(packed.code, packed.stderr).toBe(0);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(work, info!.filename);
    const files = info!.files.map((f) => f.path);
    for (const f of ['bin/aisbf.js', 'dist/bundle/main.js', 'dist/bundle/pdf-render-worker.js', 'dist/ui/index.html', 'config/aisbf.json', 'config/providers.json', 'docs/cli.md', 'README.md', 'LICENSE', 'package.json']) {
      expect(files, f).toContain(f);
    }
    // Only the bundled build ships: tsc's per-module output is what the bundle was made from.
    expect(files.filter((f) => /^(src|tests|scripts)\/|\.map$|tsbuildinfo|^\.ci\/|^dist\/(?!bundle\/|ui\/)/.test(f))).toEqual([]);

    const prefix = join(work, 'prefix');
    const home = join(work, 'home');
    mkdirSync(home);
    const installEnv = { ...process.env, npm_config_better_sqlite3_local_prebuilds: localPrebuild(), npm_config_update_notifier: 'false' };
    const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund'];
    const npxDir = join(work, 'npx-cwd');
    mkdirSync(npxDir);
    // The global install and npx's own install of the tarball run side by side.
    const [install, npx] = await Promise.all([
      run('npm', ['install', '-g', '--prefix', prefix, tarball, ...npmFlags], { env: installEnv }),
      run('npx', ['--yes', ...npmFlags, '--package', tarball, '--', 'aisbf', '--version'], { cwd: npxDir, env: { ...installEnv, HOME: home } }),
    ]);
    expect(install.code, install.stderr).toBe(0);
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(npx.code, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toBe(version);

    const bin = join(prefix, 'bin', 'aisbf');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    delete env.AISBF_CONFIG_DIR;
    delete env.AISBF_DEBUG;
    const aisbf = (...args: string[]) => run(bin, args, { env, cwd: home });

    const v = await aisbf('--version');
    expect(v.stdout.trim()).toBe(version);

    const init = await aisbf('config', 'init');
    expect(init.code, init.stderr).toBe(0);
    const cfg = join(home, '.aisbf');
    expect(init.stdout).toContain(`wrote ${join(cfg, 'aisbf.json')}`);
    const port = await freePort();
    const aisbfJson = JSON.parse(readFileSync(join(cfg, 'aisbf.json'), 'utf8')) as { server: { port: number } };
    aisbfJson.server.port = port;
    writeFileSync(join(cfg, 'aisbf.json'), JSON.stringify(aisbfJson, null, 2));

    // Foreground: serves /health, stops on SIGTERM (sent to its PID).
    const fg = spawn(bin, [], { env, cwd: home, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(fg);
    let fgErr = '';
    fg.stderr!.on('data', (d: Buffer) => (fgErr += d.toString()));
    const health = await waitFor(
      'the foreground server to answer /health',
      async () => {
        if (fg.exitCode !== null) throw new Error(`aisbf exited with ${fg.exitCode}: ${fgErr}`);
        const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
        return res?.status === 200 ? res : undefined;
      },
      20_000,
    );
    expect(health.status).toBe(200);
    const exited = new Promise<number | null>((r) => fg.once('exit', (code) => r(code)));
    process.kill(fg.pid!, 'SIGTERM');
    expect(await exited).toBe(0);

    const daemon = await aisbf('daemon');
    expect(daemon.code, daemon.stderr).toBe(0);
    expect(daemon.stdout).toContain(`http://127.0.0.1:${port}`);
    const status = await aisbf('status', '--json');
    const s = JSON.parse(status.stdout) as { running: boolean; pid: number };
    try {
      expect(status.code).toBe(0);
      expect(s.running).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
      const stop = await aisbf('stop');
      expect(stop.code, stop.stderr).toBe(0);
      expect((await aisbf('status')).code).toBe(1);
    } finally {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // Stopped as it should have.
      }
    }
  }, 240_000);
});
