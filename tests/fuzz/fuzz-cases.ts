/**
 * @module The fuzzer's case generator: from a route's valid body, a seeded stream of hostile
 * variants of every kind the hardening issue lists — wrong types at any field, truncated JSON, 1–4 MiB
 * strings, 10,000 messages/parts/keys, deep nesting, NUL / lone surrogates / invalid UTF-8, odd numbers
 * (1e309), duplicate keys and `__proto__`, wrong content types and encodings.
 */
import { gzipSync } from 'node:zlib';

/** mulberry32: small, fast and good enough to make a run repeatable from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzRoute {
  path: string;
  /** How the route takes its body. */
  body: 'json' | 'multipart';
  /** A body the route accepts (JSON object, or multipart text fields). */
  valid: Record<string, unknown>;
  /** Multipart file fields (name → bytes). */
  files?: Record<string, { filename: string; type: string; bytes: Buffer }>;
  /** Compat routes answer their own apps' error shapes (`detail`, `error`), not OpenAI's envelope. */
  compat?: boolean;
}

export interface FuzzCase {
  kind: string;
  /** What was done, for the report (short). */
  what: string;
  route: FuzzRoute;
  headers: Record<string, string>;
  body: Buffer;
}

type Json = unknown;
type Path = (string | number)[];

const MiB = 1024 * 1024;

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** Every path in a JSON value (objects and arrays, and their leaves). */
function paths(value: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

/** Paths below the root; a body with no fields still gets one new field to play with. */
function fieldPaths(value: Json): Path[] {
  const list = paths(value).filter((x) => x.length > 0);
  return list.length ? list : [['extra']];
}

function setAt(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let cur = copy;
  for (let i = 0; i < path.length - 1; i++) cur = cur[path[i]!] as Record<string | number, Json>;
  cur[path[path.length - 1]!] = value;
  return copy;
}

function label(path: Path): string {
  return path.length ? path.map(String).join('.') : '(root)';
}

const WRONG_VALUES: Json[] = [null, true, false, 0, -1, 1.5, '', 'x', [], {}, [null], { a: 1 }, [[[]]], '0', 'null', 'true', 'NaN'];

function deep(levels: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(levels)}${']'.repeat(levels)}` : `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
}

/** Text-level edits need a marker the JSON serializer keeps verbatim. */
const MARK = '\u0001FUZZ\u0001';
function jsonWithRaw(body: Json, path: Path, raw: string): string {
  return JSON.stringify(setAt(body, path, MARK)).replace(JSON.stringify(MARK), raw);
}

function multipart(fields: Record<string, unknown>, files: FuzzRoute['files'] = {}): { body: Buffer; type: string } {
  const boundary = `----aisbffuzz${Math.random().toString(16).slice(2)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${typeof v === 'string' ? v : JSON.stringify(v)}\r\n`));
  }
  for (const [k, f] of Object.entries(files)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${k}"; filename="${f.filename}"\r\ncontent-type: ${f.type}\r\n\r\n`), f.bytes, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${boundary}` };
}

const JSON_TYPE: Record<string, string> = { 'content-type': 'application/json' };

/** The kinds of mutation, each a function of the random source and the route. */
const KINDS: Record<string, (rnd: () => number, r: FuzzRoute) => Omit<FuzzCase, 'route' | 'kind'>> = {
  wrong_type(rnd, r) {
    const p = pick(rnd, paths(r.valid));
    const v = pick(rnd, WRONG_VALUES);
    return { what: `${label(p)} = ${JSON.stringify(v)}`, ...encode(r, setAt(r.valid, p, v) as Record<string, unknown>) };
  },
  truncated(rnd, r) {
    const text = JSON.stringify(r.valid);
    const cut = Math.floor(rnd() * text.length);
    return { what: `cut at ${cut}/${text.length}`, headers: JSON_TYPE, body: Buffer.from(text.slice(0, cut)) };
  },
  huge_string(rnd, r) {
    const p = pick(rnd, fieldPaths(r.valid));
    const size = Math.floor((1 + rnd() * 3) * MiB);
    return { what: `${label(p)} = ${size} bytes`, ...encode(r, setAt(r.valid, p, 'a'.repeat(size)) as Record<string, unknown>) };
  },
  many(rnd, r) {
    const n = 10_000;
    const choice = pick(rnd, ['messages', 'parts', 'keys', 'array'] as const);
    let body: Json = r.valid;
    if (choice === 'messages' && 'messages' in r.valid) body = { ...r.valid, messages: Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `m${i}` })) };
    else if (choice === 'parts' && 'messages' in r.valid) body = { ...r.valid, messages: [{ role: 'user', content: Array.from({ length: n }, (_, i) => ({ type: 'text', text: `p${i}` })) }] };
    else if (choice === 'keys') body = setAt(r.valid, [pick(rnd, ['metadata', 'logit_bias', 'extra_field', ...Object.keys(r.valid)])], Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])));
    else body = setAt(r.valid, [pick(rnd, Object.keys(r.valid).length ? Object.keys(r.valid) : ['extra'])], Array.from({ length: n }, (_, i) => i));
    return { what: `10,000 ${choice}`, ...encode(r, body as Record<string, unknown>) };
  },
  deep_nesting(rnd, r) {
    const levels = 10_000;
    const shape = pick(rnd, ['array', 'object'] as const);
    const target = pick(rnd, ['metadata', 'logit_bias', 'unknown_field', 'tool_parameters', 'tool_call_arguments', 'model', 'input', 'root'] as const);
    if (r.body === 'multipart') {
      return { what: `${target}: ${levels}-deep ${shape} in a form field`, ...encode(r, { ...r.valid, [pick(rnd, Object.keys(r.valid).length ? Object.keys(r.valid) : ['extra'])]: deep(levels, shape) }) };
    }
    let text: string;
    if (target === 'tool_parameters') {
      text = jsonWithRaw({ ...r.valid, tools: [{ type: 'function', function: { name: 'f', parameters: MARK } }] }, ['tools', 0, 'function', 'parameters'], deep(levels, shape));
    } else if (target === 'tool_call_arguments') {
      const messages = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: deep(levels, shape) } }] }, { role: 'tool', tool_call_id: 'c1', content: 'ok' }];
      text = JSON.stringify({ ...r.valid, messages });
    } else if (target === 'root') {
      text = deep(levels, shape);
    } else {
      text = jsonWithRaw(r.valid, [target], deep(levels, shape));
    }
    return { what: `${target}: ${levels}-deep ${shape}`, headers: JSON_TYPE, body: Buffer.from(text) };
  },
  bad_text(rnd, r) {
    const p = pick(rnd, fieldPaths(r.valid));
    const kind = pick(rnd, ['nul', 'controls', 'lone_surrogate', 'invalid_utf8', 'bom', 'rtl'] as const);
    if (kind === 'invalid_utf8') {
      const text = jsonWithRaw(r.valid, p, '"a\u0002b"');
      const bytes = Buffer.from(text);
      const at = bytes.indexOf(0x02);
      const bad = Buffer.from(pick(rnd, [[0xff], [0xc3, 0x28], [0xe2, 0x28, 0xa1], [0xf0, 0x90, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0x80]]));
      return { what: `${label(p)}: invalid UTF-8 ${bad.toString('hex')}`, headers: r.body === 'json' ? JSON_TYPE : JSON_TYPE, body: Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(at + 1)]) };
    }
    const value = { nul: 'a\u0000b', controls: '\u0001\u001b[31m\r\nx: y\u007f', lone_surrogate: 'a\ud800b\udfffc', bom: '\ufeffx', rtl: '\u202egpt\u200b' }[kind];
    if (kind === 'lone_surrogate') {
      // JSON escapes (\ud800) survive JSON.stringify only as raw text.
      return { what: `${label(p)}: lone surrogates`, headers: JSON_TYPE, body: Buffer.from(jsonWithRaw(r.valid, p, '"a\\ud800b\\udfffc"')) };
    }
    return { what: `${label(p)}: ${kind}`, ...encode(r, setAt(r.valid, p, value) as Record<string, unknown>) };
  },
  odd_number(rnd, r) {
    const p = pick(rnd, fieldPaths(r.valid));
    const raw = pick(rnd, ['1e309', '-1e309', '1e-400', '-0', '9007199254740993', '123456789012345678901234567890', '0.1e1000', '-2147483649', '1E+2', '0.0000001', 'NaN', 'Infinity', '01', '.5', '+1', '0x10']);
    const extra = pick(rnd, ['temperature', 'max_tokens', 'n', 'top_p', 'seed', 'dimensions', 'width', 'num_inference_steps']);
    const target = rnd() < 0.5 ? p : [extra];
    return { what: `${label(target)} = ${raw}`, headers: JSON_TYPE, body: Buffer.from(jsonWithRaw(r.valid, target, raw)) };
  },
  duplicate_and_proto(rnd, r) {
    const text = JSON.stringify(r.valid).slice(1, -1);
    const key = pick(rnd, Object.keys(r.valid).length ? Object.keys(r.valid) : ['extra']);
    const variants = [
      `{${text},${JSON.stringify(key)}:${JSON.stringify(pick(rnd, WRONG_VALUES))}}`,
      `{"__proto__":{"polluted":true,"model":"x"},${text}}`,
      `{${text},"constructor":{"prototype":{"polluted":true}}}`,
      `{${text},"__proto__":null}`,
      `{"messages":{"__proto__":[]},${text}}`,
      `{${text},"metadata":{"__proto__":{"toString":1}}}`,
    ];
    const i = Math.floor(rnd() * variants.length);
    return { what: `variant ${i} on ${key}`, headers: JSON_TYPE, body: Buffer.from(variants[i]!) };
  },
  content_type(rnd, r): Omit<FuzzCase, 'route' | 'kind'> {
    const json = Buffer.from(JSON.stringify(r.valid));
    const variant = pick(rnd, ['text/plain', 'none', 'form', 'multipart_no_boundary', 'multipart_for_json', 'json_for_multipart', 'gzip_lie', 'gzip', 'utf16', 'charset_bogus', 'xml', 'empty'] as const);
    switch (variant) {
      case 'text/plain':
        return { what: variant, headers: { 'content-type': 'text/plain' }, body: json };
      case 'none':
        return { what: variant, headers: {}, body: json };
      case 'form':
        return { what: variant, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from('model=x&messages=%5B%5D&a[b][c]=1') };
      case 'multipart_no_boundary':
        return { what: variant, headers: { 'content-type': 'multipart/form-data' }, body: json };
      case 'multipart_for_json': {
        const m = multipart(r.valid);
        return { what: variant, headers: { 'content-type': m.type }, body: m.body };
      }
      case 'json_for_multipart':
        return { what: variant, headers: JSON_TYPE, body: json };
      case 'gzip_lie':
        return { what: variant, headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: json };
      case 'gzip':
        return { what: variant, headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: gzipSync(json) };
      case 'utf16':
        return { what: variant, headers: { 'content-type': 'application/json; charset=utf-16le' }, body: Buffer.from(JSON.stringify(r.valid), 'utf16le') };
      case 'charset_bogus':
        return { what: variant, headers: { 'content-type': 'application/json; charset=x-bogus' }, body: json };
      case 'xml':
        return { what: variant, headers: { 'content-type': 'application/xml' }, body: Buffer.from('<a><b>1</b></a>') };
      case 'empty':
        return { what: variant, headers: r.body === 'json' ? JSON_TYPE : { 'content-type': 'multipart/form-data; boundary=x' }, body: Buffer.alloc(0) };
    }
  },
};

export const CASE_KINDS = Object.keys(KINDS);

function encode(r: FuzzRoute, body: Record<string, unknown>): { headers: Record<string, string>; body: Buffer } {
  if (r.body === 'json') return { headers: JSON_TYPE, body: Buffer.from(JSON.stringify(body)) };
  const m = multipart(body && typeof body === 'object' && !Array.isArray(body) ? body : { value: body }, r.files);
  return { headers: { 'content-type': m.type }, body: m.body };
}

/** The n-th case of a run: which route and kind come from the seeded source, so a seed replays a run. */
export function makeCase(rnd: () => number, routes: readonly FuzzRoute[]): FuzzCase {
  const route = pick(rnd, routes);
  const kind = pick(rnd, CASE_KINDS);
  return { kind, route, ...KINDS[kind]!(rnd, route) };
}
