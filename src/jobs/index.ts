/**
 * @module Jobs that survive a crash (CONTRACTS §7.5 item 32): OpenAI's Files and Batch APIs, the
 * seed's `/api/chat` job queue, and the runner that works them off.
 */
export { registerJobRoutes } from './jobs-routes.js';
export { BatchRunner, type BatchRunnerOptions } from './batch-runner.js';
