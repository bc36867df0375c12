/**
 * @module Every JSON body's edge checks, shared by all inbound routes: parse to an object, bound its
 * nesting (a hostile 10,000-level body must be a 400, never a stack overflow deeper in), and turn zod
 * failures into OpenAI's wording with `param` naming the field.
 */
import type { z } from 'zod';
import { HttpError } from '../errors/http-error.js';
import type { ChatMessage } from '../providers/openai-types.js';

/** Deepest nesting accepted in a body (and in a tool call's `arguments` string). */
export const MAX_JSON_DEPTH = 64;

function pathText(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

function tooDeep(path: string): HttpError {
  return new HttpError(400, `Invalid '${path || 'body'}': JSON nested deeper than ${MAX_JSON_DEPTH} levels.`, { param: path || null, code: 'json_too_deep' });
}

/**
 * Throws a 400 naming the path when `value` nests deeper than MAX_JSON_DEPTH. Recursive, but never
 * deeper than the limit (a hostile 10,000-level body stops at level 65), and it allocates nothing
 * unless it refuses: every request's body passes through it.
 */
export function checkJsonDepth(value: unknown, prefix = ''): void {
  if (value === null || typeof value !== 'object') return;
  const path = pathPastLimit(value, 1);
  if (!path) return;
  // Collected from the deepest key up.
  path.reverse();
  const tail = pathText(path);
  throw tooDeep(prefix && tail && typeof path[0] !== 'number' ? `${prefix}.${tail}` : prefix + tail);
}

/** undefined when `node` (at `depth`, the root being 1) nests within the limit; else the keys to the first container past it, deepest first. */
function pathPastLimit(node: object, depth: number): PropertyKey[] | undefined {
  if (depth > MAX_JSON_DEPTH) return [];
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const v: unknown = node[i];
      if (v !== null && typeof v === 'object') {
        const path = pathPastLimit(v, depth + 1);
        if (path) return (path.push(i), path);
      }
    }
    return undefined;
  }
  for (const k in node) {
    const v: unknown = (node as Record<string, unknown>)[k];
    if (v !== null && typeof v === 'object') {
      const path = pathPastLimit(v, depth + 1);
      if (path) return (path.push(k), path);
    }
  }
  return undefined;
}

/**
 * Nesting of a JSON text (a tool call's `arguments`, which converters parse) without parsing it:
 * brackets outside string literals. Throws the same 400 as checkJsonDepth.
 */
export function checkJsonTextDepth(text: string, path: string): void {
  // Fast exit: fewer brackets than the limit cannot nest past it.
  if (text.length <= MAX_JSON_DEPTH) return;
  // Only a text that opens a container parses to one (a tool's plain-text output is never scanned).
  let first = 0;
  while (first < text.length && (text.charCodeAt(first) <= 32)) first++;
  const open = text.charCodeAt(first);
  if (open !== 123 && open !== 91) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 123 /* { */ || ch === 91 /* [ */) {
      if (++depth > MAX_JSON_DEPTH) throw tooDeep(path);
    } else if (ch === 125 || ch === 93) depth--;
  }
}

/** A tool message's text (a string, or text parts) nested no deeper than the body may be. */
export function checkToolContentDepth(content: ChatMessage['content'], path: string): void {
  if (typeof content === 'string') return checkJsonTextDepth(content, path);
  if (!Array.isArray(content)) return;
  for (let j = 0; j < content.length; j++) {
    const text = (content[j] as { text?: unknown }).text;
    if (typeof text === 'string') checkJsonTextDepth(text, `${path}[${j}].text`);
  }
}

/** Parses a body that must be a JSON object; a parse failure names the problem. */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (!text.trim()) throw new HttpError(400, 'The request body is empty; expected a JSON object.', { code: 'invalid_json' });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `We could not parse the JSON body of your request: ${(err as Error).message}`, { code: 'invalid_json' });
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'The request body must be a JSON object.', { code: 'invalid_json' });
  }
  checkJsonDepth(body);
  return body as Record<string, unknown>;
}

/** Longest `model` accepted (ids, provider/model names). */
export const MAX_MODEL_LENGTH = 256;

// C0/C1 controls, DEL, and UTF-16 surrogates (a lone one is invalid text; a pair is fine).
// eslint-disable-next-line no-control-regex
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;
// eslint-disable-next-line no-control-regex
const BAD_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * `model` at the edge: at most MAX_MODEL_LENGTH characters, no control characters, no lone
 * surrogates; else a 400 naming `param`. Undefined passes (routes decide whether it is required).
 */
export function checkModel(model: unknown, param = 'model'): void {
  if (typeof model !== 'string') return;
  if (model.length > MAX_MODEL_LENGTH) {
    throw new HttpError(400, `Invalid '${param}': longer than ${MAX_MODEL_LENGTH} characters.`, { param, code: 'invalid_value' });
  }
  if (SUSPECT.test(model) && (BAD_CONTROL.test(model) || LONE_SURROGATE.test(model))) {
    throw new HttpError(400, `Invalid '${param}': control characters and invalid Unicode are not allowed.`, { param, code: 'invalid_value' });
  }
}

/** zod 4 does not keep the offending input on issues: look it up in the body. */
function valueAt(body: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = body;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** Turns the first zod issue into an OpenAI-style 400. */
export function zodToHttpError(error: z.ZodError, body?: unknown): HttpError {
  const issue = error.issues[0]!;
  const param = pathText(issue.path);
  const input = valueAt(body, issue.path);
  if (issue.code === 'invalid_type' && input === undefined) {
    return new HttpError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  }
  if (issue.code === 'invalid_type') {
    return new HttpError(400, `Invalid type for '${param}': expected ${issue.expected}, but got ${describe(input)}.`, { param, code: 'invalid_type' });
  }
  if (issue.code === 'too_small' && issue.origin === 'array') {
    return new HttpError(400, `Invalid '${param}': empty array. Expected an array with minimum length ${issue.minimum}, but got an empty array instead.`, { param, code: 'empty_array' });
  }
  return new HttpError(400, `Invalid value for '${param}': ${issue.message}.`, { param, code: 'invalid_value' });
}
