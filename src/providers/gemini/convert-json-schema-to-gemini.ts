/**
 * @module Turns a tool's JSON Schema (as OpenAI clients write it) into the OpenAPI-3.0 subset that
 * Gemini's `FunctionDeclaration.parameters` accepts. Gemini parses that field as a protobuf message,
 * so ANY keyword it has no field for (`additionalProperties`, `$schema`, `$ref`, `const`, `oneOf`,
 * `exclusiveMinimum`, `propertyNames` …) fails the whole request with "Invalid JSON payload received.
 * Unknown name …". We keep only the Schema fields the API defines, and rewrite what can be kept in
 * another form (`$ref` inlined, `oneOf` → `anyOf`, `const` → `enum`, `["string","null"]` → nullable).
 */
import type { Schema } from './gemini-api.js';

/** The fields of Gemini's `Schema` message (ai.google.dev/api/caching#Schema; SDK type `Schema`). */
const SCHEMA_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties', 'required',
  'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf', 'propertyOrdering',
  'default', 'items', 'minimum', 'maximum',
]);

/** `format` values Gemini accepts per type; any other format is rejected with a 400. */
const FORMATS: Record<string, ReadonlySet<string>> = {
  string: new Set(['enum', 'date-time']),
  integer: new Set(['int32', 'int64']),
  number: new Set(['float', 'double']),
};

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'array', 'object']);

/** Bounds $ref inlining (recursive schemas cannot be inlined forever). */
const MAX_DEPTH = 24;

/**
 * Bounds the converted schema's size: inlining `$ref`s multiplies nodes (a 2 KB schema of 20
 * definitions, each with four properties referring to the next, expands to 4^20 nodes: a minute of
 * CPU on the event loop). Real tool schemas stay far below this.
 */
export const MAX_SCHEMA_NODES = 10_000;

/** A schema that expands beyond MAX_SCHEMA_NODES; the request converter turns it into a 400. */
export class SchemaTooLargeError extends Error {
  override readonly name = 'SchemaTooLargeError';
  constructor() {
    super(`the schema expands to more than ${MAX_SCHEMA_NODES} nodes once its $refs are inlined`);
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Ctx {
  root: Json;
  depth: number;
  refs: ReadonlySet<string>;
  /** Nodes still allowed, shared by the whole conversion. */
  budget: { left: number };
}

function resolveRef(ref: string, root: Json): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return isObject(node) ? node : undefined;
}

/** Folds `allOf` members into one schema (properties merged, required concatenated). */
function mergeAllOf(schema: Json): Json {
  const parts = schema.allOf;
  if (!Array.isArray(parts)) return schema;
  const { allOf: _drop, ...out } = schema;
  for (const p of parts) {
    if (!isObject(p)) continue;
    for (const [k, v] of Object.entries(p)) {
      if (k === 'properties' && isObject(v)) out.properties = { ...(isObject(out.properties) ? out.properties : {}), ...v };
      else if (k === 'required' && Array.isArray(v)) out.required = [...(Array.isArray(out.required) ? out.required : []), ...v];
      else if (!(k in out)) out[k] = v;
    }
  }
  return out;
}

function convertNode(input: unknown, ctx: Ctx): Json {
  if (!isObject(input) || ctx.depth > MAX_DEPTH) return {};
  if (--ctx.budget.left < 0) throw new SchemaTooLargeError();
  let schema: Json = input;

  if (typeof schema.$ref === 'string') {
    const ref = schema.$ref;
    const target = ctx.refs.has(ref) ? undefined : resolveRef(ref, ctx.root);
    const { $ref: _r, ...siblings } = schema;
    if (!target) {
      // A cycle (or an unresolvable ref): an untyped object is the most Gemini can be told.
      return withDescription({ type: 'object' }, siblings.description);
    }
    return convertNode({ ...target, ...siblings }, { ...ctx, depth: ctx.depth + 1, refs: new Set([...ctx.refs, ref]) });
  }
  schema = mergeAllOf(schema);

  const out: Json = {};
  const next: Ctx = { ...ctx, depth: ctx.depth + 1 };

  // anyOf / oneOf: a null branch becomes `nullable`; a single remaining branch is inlined.
  const union = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  if (union) {
    const branches = union.filter((b) => !(isObject(b) && b.type === 'null'));
    if (branches.length < union.length) out.nullable = true;
    if (branches.length === 1) {
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      const inner = convertNode({ ...(branches[0] as Json), ...rest }, next);
      return out.nullable ? { ...inner, nullable: true } : inner;
    }
    if (branches.length > 1) out.anyOf = branches.map((b) => convertNode(b, next));
  }

  // type: a list of types becomes nullable + one type, or anyOf over the types.
  let type: string | undefined;
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t): t is string => typeof t === 'string');
    if (types.includes('null')) out.nullable = true;
    const rest = types.filter((t) => t !== 'null' && TYPES.has(t));
    if (rest.length === 1) type = rest[0];
    else if (rest.length > 1 && !out.anyOf) out.anyOf = rest.map((t) => ({ type: t }));
  } else if (typeof schema.type === 'string' && TYPES.has(schema.type)) {
    type = schema.type;
  }

  // const is an enum of one (Gemini enums are strings only).
  let enumValues: unknown[] | undefined = Array.isArray(schema.enum) ? schema.enum : schema.const !== undefined ? [schema.const] : undefined;
  if (enumValues) {
    const strings = enumValues.filter((v) => v !== null);
    if (strings.every((v) => typeof v === 'string') && strings.length > 0 && (type === undefined || type === 'string')) {
      type = 'string';
      if (strings.length < enumValues.length) out.nullable = true;
      out.enum = strings;
    } else {
      // Gemini rejects non-string enums; the allowed values still reach the model as text.
      out.description = joinDescription(schema.description, `Allowed values: ${enumValues.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    enumValues = undefined;
  }
  if (type && !out.anyOf) out.type = type;

  for (const [key, value] of Object.entries(schema)) {
    if (!SCHEMA_FIELDS.has(key) || key in out || value === undefined || value === null) continue;
    switch (key) {
      case 'type':
      case 'enum':
      case 'anyOf':
        break; // handled above
      case 'properties':
        if (isObject(value)) {
          const props: Record<string, Json> = {};
          for (const [name, sub] of Object.entries(value)) props[name] = convertNode(sub, next);
          if (Object.keys(props).length > 0) out.properties = props;
        }
        break;
      case 'items':
        // Tuple-form items (an array of schemas) has no Gemini form; the first member is the closest.
        out.items = convertNode(Array.isArray(value) ? value[0] : value, next);
        break;
      case 'format':
        if (typeof value === 'string' && type && FORMATS[type]?.has(value)) out.format = value;
        break;
      case 'required':
        if (Array.isArray(value)) out.required = value.filter((v): v is string => typeof v === 'string');
        break;
      case 'description':
      case 'title':
      case 'pattern':
        if (typeof value === 'string') out[key] = value;
        break;
      default:
        out[key] = value;
    }
  }

  // `required` may only name declared properties (Gemini: "property is not defined").
  if (Array.isArray(out.required)) {
    const names = isObject(out.properties) ? new Set(Object.keys(out.properties)) : new Set<string>();
    const req = [...new Set((out.required as string[]).filter((n) => names.has(n)))];
    if (req.length > 0) out.required = req;
    else delete out.required;
  }
  // Gemini requires `items` on arrays.
  if (out.type === 'array' && !out.items) out.items = { type: 'string' };
  return out;
}

function joinDescription(a: unknown, b: string): string {
  return typeof a === 'string' && a ? `${a} (${b})` : b;
}

function withDescription(s: Json, description: unknown): Json {
  return typeof description === 'string' && description ? { ...s, description } : s;
}

/**
 * A function's parameters in Gemini's form, or undefined when the function takes none (Gemini
 * rejects an OBJECT whose `properties` is empty: "should be non-empty for OBJECT type").
 */
export function convertToolParameters(parameters: Record<string, unknown> | undefined): Schema | undefined {
  if (!parameters) return undefined;
  const schema = convertNode(parameters, { root: parameters, depth: 0, refs: new Set(), budget: { left: MAX_SCHEMA_NODES } });
  if (schema.type === 'object' && !isObject(schema.properties)) return undefined;
  // Types stay lower-case JSON Schema names here; the SDK upper-cases them into Gemini's Type enum.
  return schema as Schema;
}

/** The same conversion for any schema (exported for tests of the rules above). */
export function convertJsonSchemaToGemini(schema: Record<string, unknown>): Schema {
  return convertNode(schema, { root: schema, depth: 0, refs: new Set(), budget: { left: MAX_SCHEMA_NODES } }) as Schema;
}
