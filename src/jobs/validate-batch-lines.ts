/**
 * @module Checks a batch input file line by line (streamed): each line one JSON object with
 * `custom_id`, `method` POST, `url` and a `body` object, in OpenAI's error codes and words
 * (`invalid_json_line`, `url_mismatch`, `duplicate_custom_id`, `empty_file`), each naming its line.
 */
import { readLines, type FileLine } from './read-lines.js';

export const BATCH_ENDPOINTS = ['/v1/chat/completions', '/v1/embeddings', '/v1/responses'] as const;
export type BatchEndpoint = (typeof BATCH_ENDPOINTS)[number];

/** One entry of OpenAI's batch `errors.data`. */
export interface BatchLineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** Errors kept at most: a wholly wrong file says so in a few lines, not in millions. */
export const MAX_REPORTED_ERRORS = 50;

export interface ValidLine {
  line: FileLine;
  customId: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The problem of one line (or undefined), against `endpoint` when given. */
export function checkLine(text: string, lineNo: number, endpoint: string | undefined): { error?: BatchLineError; customId?: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { error: { code: 'invalid_json_line', message: 'This line is not parseable as valid JSON.', param: null, line: lineNo } };
  }
  if (!isObject(v)) return { error: { code: 'invalid_json_line', message: 'This line is not a JSON object.', param: null, line: lineNo } };
  const missing = (param: string, what: string): { error: BatchLineError } => ({ error: { code: 'missing_required_parameter', message: `This line is missing ${what}.`, param, line: lineNo } });
  if (typeof v.custom_id !== 'string' || v.custom_id === '') return missing('custom_id', "a non-empty string 'custom_id'");
  if (v.method !== 'POST') return { error: { code: 'invalid_method', message: "The 'method' of this line must be 'POST'.", param: 'method', line: lineNo } };
  if (typeof v.url !== 'string') return missing('url', "a string 'url'");
  if (!isObject(v.body)) return missing('body', "an object 'body'");
  if (endpoint !== undefined && v.url !== endpoint)
    return { error: { code: 'url_mismatch', message: `The URL provided for this request does not match the batch endpoint (${endpoint}).`, param: 'url', line: lineNo } };
  if (endpoint === undefined && !(BATCH_ENDPOINTS as readonly string[]).includes(v.url))
    return { error: { code: 'invalid_url', message: `The 'url' of this line must be one of ${BATCH_ENDPOINTS.join(', ')}.`, param: 'url', line: lineNo } };
  return { customId: v.custom_id };
}

/**
 * Streams the file: `onValid` gets each good line (duplicates are the caller's to find: it keeps the
 * ids, in the database rather than in memory). Returns the errors (at most MAX_REPORTED_ERRORS) and
 * the number of request lines. Blank lines are skipped, as OpenAI does.
 */
export async function validateBatchFile(
  path: string,
  endpoint: string | undefined,
  maxLineBytes: number,
  onValid?: (l: ValidLine) => BatchLineError | undefined | void,
): Promise<{ errors: BatchLineError[]; lines: number }> {
  const errors: BatchLineError[] = [];
  let lines = 0;
  const report = (e: BatchLineError) => {
    if (errors.length < MAX_REPORTED_ERRORS) errors.push(e);
  };
  for await (const line of readLines(path, maxLineBytes)) {
    if (!line.tooLong && line.text.trim() === '') continue;
    lines++;
    if (line.tooLong) {
      report({ code: 'line_too_long', message: `This line is longer than the request body limit (${maxLineBytes} bytes).`, param: null, line: line.lineNo });
      continue;
    }
    const r = checkLine(line.text, line.lineNo, endpoint);
    if (r.error) report(r.error);
    else {
      const e = onValid?.({ line, customId: r.customId! });
      if (e) report(e);
    }
  }
  if (lines === 0) report({ code: 'empty_file', message: 'The input file is empty: a batch needs at least one request line.', param: null, line: null });
  return { errors, lines };
}
