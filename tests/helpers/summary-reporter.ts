/**
 * @module A vitest reporter that ends the run with one plain line, `tests: N passed, N failed`, which
 * CI tooling reads as the run's closing count (vitest's own summary is styled for people). "Failed"
 * counts everything that fails a run, not only failed tests: a hook that threw (its tests show as
 * skipped), a file that could not be loaded, an unhandled error. A failing run never says "0 failed".
 */
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

export interface RunCounts {
  passed: number;
  skipped: number;
  failedTests: number;
  /** Suites or files whose own errors (a throwing beforeAll/afterAll, an import error) failed them. */
  failedHooksOrFiles: number;
  unhandledErrors: number;
}

export function countRun(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): RunCounts {
  const c: RunCounts = { passed: 0, skipped: 0, failedTests: 0, failedHooksOrFiles: 0, unhandledErrors: unhandledErrors.length };
  for (const m of testModules) {
    for (const t of m.children.allTests()) {
      const state = t.result().state;
      if (state === 'passed') c.passed++;
      else if (state === 'failed') c.failedTests++;
      else c.skipped++;
    }
    let own = m.errors().length > 0 ? 1 : 0;
    for (const s of m.children.allSuites()) if (s.errors().length > 0) own++;
    // A file vitest marks failed with no failed test and no error of its own still failed the run.
    if (own === 0 && m.state() === 'failed' && ![...m.children.allTests('failed')].length) own = 1;
    c.failedHooksOrFiles += own;
  }
  return c;
}

export function summaryLine(c: RunCounts, reason?: TestRunEndReason): string {
  let failed = c.failedTests + c.failedHooksOrFiles + c.unhandledErrors;
  const detail: string[] = [];
  if (c.failedHooksOrFiles) detail.push(`${c.failedHooksOrFiles} failed hook or file`);
  if (c.unhandledErrors) detail.push(`${c.unhandledErrors} unhandled error${c.unhandledErrors === 1 ? '' : 's'}`);
  if (reason === 'failed' && failed === 0) {
    failed = 1;
    detail.push('the run failed without a failed test');
  }
  return `tests: ${c.passed} passed, ${failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}${detail.length ? ` (${detail.join(', ')})` : ''}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    process.stdout.write(`\n${summaryLine(countRun(testModules, unhandledErrors), reason)}\n`);
  }
}
