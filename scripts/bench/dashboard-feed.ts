/**
 * @module The dashboard's cost to the daemon (issue 20): the built aisbf under the bench's chat load,
 * first with no dashboard, then with a real Chromium tab on /ui (live feed open, panels polling)
 * plus one live-feed reader that never reads (the slow reader the feed must drop for). Prints the
 * daemon's RSS over time and its CPU per request in both phases, and the feed's drop counter.
 *
 * Both phases send the same fixed rate (open loop), so the daemon's CPU per request compares like
 * with like even though Chromium shares the machine.
 *
 * Run (after `npm run build`): node --import tsx scripts/bench/dashboard-feed.ts
 * Knobs: FEED_SECONDS=120 (feed phase), BASE_SECONDS=60 (no-dashboard phase), RATE=150 (requests/s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { closedLoop, openLoop, type LoadTarget } from './load.js';
import { cpuMs, rssMb } from './proc-stats.js';
import { benchConfigDir, benchProvider, envNumber, freePort, spawnMock, waitUp as waitFor } from './spawned.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SECONDS = envNumber('FEED_SECONDS', 120);
const BASELINE = envNumber('BASE_SECONDS', 60);
const RATE = envNumber('RATE', 150);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Load in slices of `slice` seconds, sampling RSS after each. */
async function phase(name: string, pid: number, t: LoadTarget, seconds: number, slice = 10) {
  const cpu0 = cpuMs(pid);
  let ok = 0;
  let errors = 0;
  const rss: number[] = [];
  for (let left = seconds; left > 0; left -= slice) {
    const s = await openLoop(t, RATE, Math.min(slice, left));
    ok += s.ok;
    errors += s.errors;
    rss.push(Math.round(rssMb(pid)));
  }
  const cpuPerReq = (cpuMs(pid) - cpu0) / Math.max(1, ok);
  console.log(`${name}: ${ok} requests (${errors} errors) in ${seconds} s at ${RATE}/s, CPU ${cpuPerReq.toFixed(3)} ms/request, RSS MB every ${slice} s: ${rss.join(' ')}`);
  return { ok, cpuPerReq, rss };
}

async function main(): Promise<void> {
  const mockPort = await freePort();
  const port = await freePort();
  const dir = benchConfigDir('aisbf-dash-bench-', { server: { port }, logging: { level: 'warn' } }, { mock: benchProvider(`http://127.0.0.1:${mockPort}/v1`, [{ name: 'gpt-4o-mini' }]) });
  const children: ChildProcess[] = [];
  process.on('exit', () => children.forEach((c) => c.exitCode === null && c.kill('SIGTERM')));
  const mock = spawnMock(mockPort);
  children.push(mock);
  await waitFor(`http://127.0.0.1:${mockPort}/health`, mock);
  const aisbf = spawn(process.execPath, [join(ROOT, 'bin/aisbf.js')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AISBF_CONFIG_DIR: dir } });
  children.push(aisbf);
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(`${origin}/health`, aisbf);
  const pid = aisbf.pid!;
  const target: LoadTarget = { name: 'chat', origin, path: '/v1/chat/completions', body: JSON.stringify({ model: 'mock/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }) };

  console.log(`aisbf pid ${pid}, RSS at start ${Math.round(rssMb(pid))} MB; warm-up 10 s`);
  await closedLoop(target, 16, 10);
  const base = await phase('no dashboard', pid, target, BASELINE);

  // A reader that asks for the feed and then never reads: its queue must stay bounded.
  const stuck = connect(port, '127.0.0.1');
  stuck.write(`GET /admin/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  stuck.pause();
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    const page = await browser.newPage();
    await page.goto(`${origin}/ui`);
    await page.locator('#live .dot.on').waitFor();
  } else console.log(`${CHROMIUM} missing: only the stuck reader is open`);
  const withFeed = await phase('dashboard tab open + a stuck feed reader', pid, target, SECONDS);
  const state = (await (await fetch(`${origin}/admin/state`)).json()) as { feed: unknown };
  console.log('feed counters:', JSON.stringify(state.feed));
  await browser?.close();
  stuck.destroy();
  console.log(
    `summary: RSS ${base.rss.at(-1)} MB before the tab, ${withFeed.rss[0]} MB after its first 10 s, ${withFeed.rss.at(-1)} MB at the end (max ${Math.max(...withFeed.rss)}); ` +
      `CPU ${base.cpuPerReq.toFixed(3)} → ${withFeed.cpuPerReq.toFixed(3)} ms/request`,
  );
  aisbf.kill('SIGTERM');
  mock.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
