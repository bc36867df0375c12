/**
 * A batch survives a SIGKILL of the server: aisbf runs as a real child process, is killed in the
 * middle of a batch against a slow upstream, and restarted on the same config dir.
 */
import OpenAI, { toFile } from 'openai';
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { freePort, makeCliConfigDir, ROOT } from '../cli/cli-harness.js';

let fake: FakeOpenAI | undefined;
let dir: string | undefined;
let batchId: string | undefined;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The server from source, in the foreground, as `aisbf serve --config DIR` runs it. */
async function startChild(configDir: string, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'serve', '--config', configDir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`aisbf exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}/health`).then((r) => r.ok).catch(() => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`aisbf did not answer /health: ${stderr}`);
}

describe('a batch across a SIGKILL', () => {
  it('resumes after a restart: every custom_id once in the output, no finished line sent upstream twice', async () => {
    fake = await startFakeOpenAI();
    fake.setModelBehavior('gpt-4o', { type: 'reply', text: 'done', headerDelayMs: 120 });
    const port = await freePort();
    dir = makeCliConfigDir(
      {
        providers: { up: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-up', models: [{ name: 'gpt-4o' }] } },
        aisbf: { batches: { max_concurrent_lines: 3 }, logging: { level: 'warn' } },
      },
      port,
    );
    const url = `http://127.0.0.1:${port}`;
    let child = await startChild(dir, url);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'k', maxRetries: 0 });
    const ids = Array.from({ length: 30 }, (_, i) => `line-${i}`);
    // The custom_id rides in the prompt, so the fake can count what reached it per line.
    const jsonl = ids.map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: 'up/gpt-4o', messages: [{ role: 'user', content: `marker:${id}` }] } })).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'crash.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    batchId = batch.id;

    for (let i = 0; i < 200; i++) {
      const b = await client.batches.retrieve(batch.id);
      if (b.request_counts!.completed >= 8) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    // What the store had committed as finished when the process died.
    const db = new Database(join(dir, 'aisbf.db'), { readonly: true });
    const finished = (db.prepare(`SELECT custom_id FROM batch_lines WHERE batch_id = ? AND state = 'done'`).all(batch.id) as Array<{ custom_id: string }>).map((r) => r.custom_id);
    db.close();
    expect(finished.length).toBeGreaterThanOrEqual(8);
    expect(finished.length).toBeLessThan(ids.length);

    child = await startChild(dir, url);
    let done: OpenAI.Batch | undefined;
    for (let i = 0; i < 400; i++) {
      done = await client.batches.retrieve(batch.id);
      if (done.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(done!.status).toBe('completed');
    expect(done!.request_counts).toEqual({ total: 30, completed: 30, failed: 0 });
    const out = (await (await client.files.content(done!.output_file_id!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).custom_id as string);
    expect(out.sort()).toEqual([...ids].sort());

    const reached = new Map<string, number>();
    for (const r of fake.chatRequests()) {
      const id = String(r.body.messages[0].content).replace('marker:', '');
      reached.set(id, (reached.get(id) ?? 0) + 1);
    }
    for (const id of finished) expect(reached.get(id), id).toBe(1);
    for (const id of ids) expect(reached.get(id) ?? 0, id).toBeGreaterThanOrEqual(1);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });

  it('aisbf batches lists, shows, and refuses to cancel the finished batch', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'batches', ...args, '--config', dir!], { cwd: ROOT, encoding: 'utf8' });
    const list = cli();
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${batchId}\\s+completed\\s+/v1/chat/completions\\s+30\\s+0\\s+30`));
    const show = cli('show', batchId!, '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({ id: batchId, status: 'completed', request_counts: { total: 30, completed: 30, failed: 0 } });
    const cancel = cli('cancel', batchId!);
    expect(cancel.status).not.toBe(0);
    expect(cancel.stderr).toContain("Cannot cancel a batch with status 'completed'.");
  });
});
