/**
 * @module The keys a config schema knows at a JSON path, for "unknown key … did you mean …?" messages.
 * Walks zod's schema definitions (objects, records, arrays, unions and the optional/default wrappers).
 */
import type { z } from 'zod';

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every object schema reachable at `path` (several through unions). */
function objectsAt(schema: z.ZodType, path: readonly PropertyKey[]): Def[] {
  const def = defOf(schema);
  if (def.innerType) return objectsAt(def.innerType, path);
  if (def.type === 'pipe' && def.in) return objectsAt(def.in, path);
  if (def.type === 'union' && def.options) return def.options.flatMap((o) => objectsAt(o, path));
  if (path.length === 0) return def.type === 'object' ? [def] : [];
  const [head, ...rest] = path;
  if (def.type === 'object' && def.shape && typeof head === 'string' && def.shape[head]) return objectsAt(def.shape[head], rest);
  if (def.type === 'record' && def.valueType) return objectsAt(def.valueType, rest);
  // An object with a catchall (autoselect.json: `version` plus any number of named entries).
  if (def.type === 'object' && def.catchall && def.catchall._zod.def.type !== 'never' && typeof head === 'string') return objectsAt(def.catchall, rest);
  if (def.type === 'array' && def.element && typeof head === 'number') return objectsAt(def.element, rest);
  return [];
}

/** The property names the schema allows for the object at `path`. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((d) => Object.keys(d.shape ?? {})))];
}
