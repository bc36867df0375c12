/**
 * @module Work a response must not wait for (its request line, its usage record and counters): queued
 * here and run together in one `setImmediate`, which comes after the current turn's callbacks — the
 * ones that render the answer and hand it to the socket. One Immediate per turn, not one per request.
 * Jobs run in the order queued; a job that throws does not stop the others (`onError` is told).
 */
const queue: Array<() => void> = [];
let scheduled = false;
let onError: (err: unknown) => void = () => {};

function flush(): void {
  scheduled = false;
  // Jobs queued while these run (none expected) wait for the next Immediate.
  const jobs = queue.splice(0);
  for (const job of jobs) {
    try {
      job();
    } catch (err) {
      onError(err);
    }
  }
}

export function afterResponse(job: () => void): void {
  queue.push(job);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/** Where a failing job is reported (the server's logger); set once at start. */
export function onAfterResponseError(report: (err: unknown) => void): void {
  onError = report;
}
