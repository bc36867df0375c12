/**
 * @module `npm run fuzz [-- --seed N --cases N --seconds S --concurrency N]`: hostile bodies of every
 * kind to every inbound route of a real aisbf on fake upstreams (tests/fuzz/). Prints a summary and
 * each failure with the seed and case number that reproduce it; exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { runFuzz } from '../tests/fuzz/fuzz-run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    cases: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '6' },
  },
});

function num(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`fuzz: --${name} needs a whole number >= ${min} (got ${JSON.stringify(v)})\n`);
    process.exit(2);
  }
  return n;
}

const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : num('seed', values.seed, 0);
const cases = num('cases', values.cases, 1);
const seconds = num('seconds', values.seconds, 1);
const concurrency = num('concurrency', values.concurrency, 1);

process.stdout.write(`fuzz: seed ${seed}, up to ${cases} cases or ${seconds} s\n`);
const report = await runFuzz({ seed, cases, seconds, concurrency, progress: (l) => process.stdout.write(`  ${l}\n`) });
process.stdout.write(`routes: ${report.routes.join(' ')}\n`);
if (report.missingRoutes.length) process.stdout.write(`not present (skipped): ${report.missingRoutes.join(' ')}\n`);
process.stdout.write(`kinds: ${Object.entries(report.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
process.stdout.write(`statuses: ${Object.entries(report.byStatus).map(([k, n]) => `${k}: ${n}`).join(', ')}\n`);
for (const f of report.failures.slice(0, 50)) process.stdout.write(`FAIL #${f.n} ${f.kind} ${f.route} [${f.what}]: ${f.problem}\n`);
if (report.failures.length > 50) process.stdout.write(`… and ${report.failures.length - 50} more\n`);
process.stdout.write(`fuzz: ${report.sent} cases in ${report.seconds} s, ${report.failures.length} failure(s) (seed ${seed})\n`);
process.exit(report.failures.length ? 1 : 0);
