/**
 * A batch whose input file changes under it while it runs: the lines that cannot be read back any more
 * end in the error file with `input_unavailable` (nothing is sent upstream for them); the lines that ran
 * keep their results, and the batch completes.
 */
import { truncateSync } from 'node:fs';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStores } from '../../src/jobs/jobs-stores.js';
import { startGatedBatchServer, until, type GatedBatchServer } from './gated-batch-server.js';

let server: GatedBatchServer;

// One line at a time: a fresh runner claims no further ahead, so the later lines are read after the change.
beforeAll(async () => {
  server = await startGatedBatchServer({ batches: { max_concurrent_lines: 1 } });
});
afterAll(() => server.close());

describe('a batch whose input file changes while it runs', () => {
  it('fails the lines it can no longer read with input_unavailable, and keeps the ones that ran', async () => {
    const { up, aisbf, client } = server;
    const lines = Array.from({ length: 3 }, (_, i) => JSON.stringify({ custom_id: `c${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'local/m', messages: [{ role: 'user', content: `line-${i}` }] } }));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'c.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    // The first line is at the upstream (one line at a time); the file is emptied under the others.
    await up.arrived(1);
    truncateSync(jobStores(aisbf.running.deps.db).files.get(file.id)!.path, 0);
    up.passThrough = true;
    up.release('line-0');

    const done = await until('the batch finishing', () => client.batches.retrieve(batch.id), (b) => b.status === 'completed');
    expect(done.request_counts).toEqual({ total: 3, completed: 1, failed: 2 });
    expect(up.arrivals).toEqual(['line-0']);
    const output = (await (await client.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(output.map((o) => [o.custom_id, o.response.status_code])).toEqual([['c0', 200]]);
    const errors = (await (await client.files.content(done.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(errors.map((e) => [e.custom_id, e.response, e.error.code])).toEqual([
      ['c1', null, 'input_unavailable'],
      ['c2', null, 'input_unavailable'],
    ]);
  });
});
