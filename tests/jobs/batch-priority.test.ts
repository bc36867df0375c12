/**
 * A running batch does not starve interactive traffic: its lines run a bounded number at a time
 * (batches.max_concurrent_lines) and wait in the admission queue at `low` priority, so an interactive
 * request is admitted ahead of them. Asserted on the order and slots seen at the upstream.
 */
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatedOpenAI } from '../fakes/gated-openai-upstream.js';
import type { TestServer } from '../helpers/aisbf-server.js';
import { startGatedBatchServer, until, type GatedBatchServer } from './gated-batch-server.js';

let server: GatedBatchServer;
let up: GatedOpenAI;
let aisbf: TestServer;
let client: OpenAI;

async function queue(id: string): Promise<{ processing: number; waiting: number }> {
  return (await fetch(`${aisbf.url}/admin/queue/${encodeURIComponent(id)}`)).json() as never;
}

beforeAll(async () => {
  server = await startGatedBatchServer({ model: { max_concurrent: 1, max_waiting: 10 }, batches: { max_concurrent_lines: 2 } });
  ({ up, aisbf, client } = server);
});
afterAll(() => server.close());

describe('a batch next to interactive traffic', () => {
  it('admits an interactive request ahead of waiting batch lines, and never runs more lines than max_concurrent_lines', async () => {
    const lines = Array.from({ length: 6 }, (_, i) => JSON.stringify({ custom_id: `b${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'local/m', messages: [{ role: 'user', content: `batch-${i}` }] } }));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'b.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    // One line holds the model's only slot, a second waits for it; the other four are not even claimed.
    await up.arrived(1);
    await until('a batch line waiting', () => queue('local/m'), (q) => q.waiting === 1);
    const interactive = fetch(`${aisbf.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local/m', messages: [{ role: 'user', content: 'interactive' }] }),
    });
    await until('the interactive request waiting', () => queue('local/m'), (q) => q.waiting === 2);
    up.release(up.arrivals[0]!);
    await up.arrived(2);
    expect(up.arrivals[1]).toBe('interactive');
    up.release('interactive');
    expect((await interactive).status).toBe(200);

    up.passThrough = true;
    for (const h of [...up.held]) h.release();
    const done = await until('the batch finishing', () => client.batches.retrieve(batch.id), (b) => b.status === 'completed');
    expect(done.request_counts).toEqual({ total: 6, completed: 6, failed: 0 });
    // Never more than max_concurrent_lines (2) batch lines in flight: 1 at the upstream, 1 in the queue.
    expect(up.peakHeld).toBe(1);
    expect(up.arrivals.filter((m) => m.startsWith('batch-')).sort()).toEqual(['batch-0', 'batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5']);
  });

  it('queues /api/chat jobs and answers their status and result on /api/requests/{id}', async () => {
    up.passThrough = false;
    const r = await fetch(`${aisbf.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-priority': 'high', 'x-client-id': 'seed-app', 'x-model': 'local/m' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'job-1' }] }),
    });
    expect(r.status).toBe(200);
    const queued = (await r.json()) as { request_id: string; status: string; message: string };
    expect(queued).toEqual({ request_id: expect.stringMatching(/^req_/), status: 'queued', message: 'Request queued for processing' });
    await until('the job at the upstream', () => up.arrivals.includes('job-1'), Boolean);
    const processing = (await (await fetch(`${aisbf.url}/api/requests/${queued.request_id}`)).json()) as { status: string; priority: string; client_id: string };
    expect(processing).toMatchObject({ status: 'processing', priority: 'high', client_id: 'seed-app' });
    up.release('job-1');
    const done = await until(
      'the job completing',
      async () => (await (await fetch(`${aisbf.url}/api/requests/${queued.request_id}`)).json()) as { status: string; result: any; model: string },
      (j) => j.status === 'completed',
    );
    expect(done.model).toBe('local/m');
    expect(done.result.choices[0].message.content).toBe('ok job-1');

    const unknown = await fetch(`${aisbf.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-model': 'nope/none' }, body: JSON.stringify({ messages: [] }) });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe('Model nope/none not available');
    const badPriority = await fetch(`${aisbf.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-priority': 'urgent', 'x-model': 'local/m' }, body: '{}' });
    expect(badPriority.status).toBe(400);
    expect(((await badPriority.json()) as { error: { param: string } }).error.param).toBe('X-Priority');
    expect((await fetch(`${aisbf.url}/api/requests/req_missing`)).status).toBe(404);
  });
});
