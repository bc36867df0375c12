/**
 * @module The batch rows of `npm run bench`: 10,000 small chat lines as one OpenAI batch against the
 * mock upstream, in lines per second, next to the same mock called directly with the same number of
 * requests in flight (the runner's `batches.max_concurrent_lines`); and the daemon's RSS before, at its
 * peak and after, and its peak while the same batch runs a second and a third time (lines are
 * streamed from the file and nothing of a finished batch is kept: it should stay flat).
 */
import { cpuMs, rssMb } from './proc-stats.js';

type Add = (scenario: string, metric: string, direct: number | undefined, aisbf: number, target?: string, pass?: boolean) => void;

async function directRate(mockBase: string, model: string, n: number, concurrency: number): Promise<number> {
  let next = 0;
  const body = (i: number) => JSON.stringify({ model, messages: [{ role: 'user', content: `line ${i}: one short sentence about the sea.` }] });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const res = await fetch(`${mockBase}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' }, body: body(i) });
        if (!res.ok) throw new Error(`the mock answered ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

/** Runs one batch of the uploaded file to its end: lines/s, CPU per line, and the peak RSS while it ran. */
async function runBatch(o: { origin: string; pid: number }, fileId: string): Promise<{ status: string; completed: number; failed: number; seconds: number; cpuPerLine: number; peak: number }> {
  let peak = rssMb(o.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(o.pid))), 100);
  const started = performance.now();
  const cpu0 = cpuMs(o.pid);
  const created = await fetch(`${o.origin}/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' }) });
  const batch = (await created.json()) as { id: string };
  let status = '';
  let counts = { completed: 0, failed: 0 };
  try {
    while (!['completed', 'failed', 'cancelled'].includes(status)) {
      await new Promise((r) => setTimeout(r, 100));
      const b = (await (await fetch(`${o.origin}/v1/batches/${batch.id}`)).json()) as { status: string; request_counts: typeof counts };
      status = b.status;
      counts = b.request_counts;
    }
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  return { status, ...counts, seconds, cpuPerLine: (cpuMs(o.pid) - cpu0) / Math.max(1, counts.completed), peak };
}

export async function benchBatch(o: { origin: string; pid: number; mockBase: string; target: string; upstreamModel: string; lines: number; concurrency: number; add: Add }): Promise<void> {
  const scenario = `batch of ${o.lines.toLocaleString('en')} chat lines, ${o.concurrency} at a time`;
  const direct = await directRate(o.mockBase, o.upstreamModel, o.lines, o.concurrency);

  const jsonl = Array.from({ length: o.lines }, (_, i) =>
    JSON.stringify({ custom_id: `l${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: o.target, messages: [{ role: 'user', content: `line ${i}: one short sentence about the sea.` }] } }),
  ).join('\n');
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([jsonl], { type: 'application/jsonl' }), 'bench.jsonl');
  const rssBefore = rssMb(o.pid);
  const up = await fetch(`${o.origin}/v1/files`, { method: 'POST', body: form });
  if (!up.ok) throw new Error(`upload answered ${up.status}: ${await up.text()}`);
  const file = (await up.json()) as { id: string };
  const first = await runBatch(o, file.id);
  process.stderr.write(`  batch: ${first.status}, ${first.completed} completed, ${first.failed} failed in ${first.seconds.toFixed(1)} s\n`);
  const rssAfter = rssMb(o.pid);
  // The same file twice more: flat memory means the third run peaks no higher than the second. (The
  // first run is where V8 grows its heap to its working size; after a forced GC the JS heap holds the
  // same ~21 MB after every run, docs/batches.md.)
  const second = await runBatch(o, file.id);
  const third = await runBatch(o, file.id);
  const rate = first.completed / first.seconds;
  o.add(scenario, 'lines/s (direct: the mock, same concurrency)', direct, rate);
  o.add(scenario, 'batch ÷ direct', undefined, rate / direct);
  o.add(scenario, 'aisbf CPU ms per line (validation, pipeline, commit, results)', undefined, first.cpuPerLine);
  o.add(scenario, 'aisbf RSS MB before → after (direct column: before)', rssBefore, rssAfter);
  o.add(scenario, 'aisbf peak RSS MB while running', undefined, first.peak);
  o.add(scenario, 'aisbf peak RSS MB, the same batch run a second → a third time (direct column: second)', second.peak, third.peak);
}
