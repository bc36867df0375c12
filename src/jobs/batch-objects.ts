/**
 * @module OpenAI's `file` and `batch` objects and list pages, from our rows: the shapes the openai
 * SDK's `files` and `batches` methods parse.
 */
import type { BatchFileRow } from '../store/batch-files.js';
import type { BatchRow } from '../store/batch-store.js';

export function fileObject(f: BatchFileRow): Record<string, unknown> {
  return {
    id: f.id,
    object: 'file',
    bytes: f.bytes,
    created_at: f.created_at,
    expires_at: null,
    filename: f.filename,
    purpose: f.purpose,
    status: f.status,
    status_details: f.status_details,
  };
}

export function batchObject(b: BatchRow): Record<string, unknown> {
  return {
    id: b.id,
    object: 'batch',
    endpoint: b.endpoint,
    errors: b.errors ? (JSON.parse(b.errors) as unknown) : null,
    input_file_id: b.input_file_id,
    completion_window: b.completion_window,
    status: b.status,
    output_file_id: b.output_file_id,
    error_file_id: b.error_file_id,
    created_at: b.created_at,
    in_progress_at: b.in_progress_at,
    expires_at: b.expires_at,
    finalizing_at: b.finalizing_at,
    completed_at: b.completed_at,
    failed_at: b.failed_at,
    expired_at: b.expired_at,
    cancelling_at: b.cancelling_at,
    cancelled_at: b.cancelled_at,
    request_counts: { total: b.total, completed: b.completed, failed: b.failed },
    metadata: b.metadata ? (JSON.parse(b.metadata) as unknown) : null,
  };
}

export function listPage<T extends { id: string }>(rows: T[], limit: number, render: (r: T) => Record<string, unknown>): Record<string, unknown> {
  const page = rows.slice(0, limit);
  return {
    object: 'list',
    data: page.map(render),
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: rows.length > limit,
  };
}
