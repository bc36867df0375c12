/** @module What every bench script needs to run servers of its own: a free port, and waiting until one answers. */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A port free on 127.0.0.1 right now. */
export const freePort = (): Promise<number> =>
  new Promise<number>((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

/**
 * Polls `url` every 100 ms until it answers 2xx (and `check` accepts its JSON body, when given);
 * fails at once when `child` exited, or after `timeoutMs`.
 */
export async function waitUp(url: string, child: ChildProcess, what = url, check?: (body: any) => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok && (!check || check(await r.json()))) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s`);
}
