/**
 * @module copyWith: a shallow copy of an object with some fields set, as `{ ...base, ...fields }`
 * means it, for objects built on every request.
 *
 * Why not the spread: on Node 20 (V8 11.3) an object spread followed by a property the source lacks,
 * in the same literal or assigned afterwards, builds a new hidden class (map) on every call, with no
 * transition the next call could reuse. A chat request made three such objects (the upstream body
 * with `stream`, its headers with `content-length`, the usage with `effective_context`): three maps
 * allocated in old space per request, and every property read of those objects further on missed its
 * inline cache (megamorphic). `Object.assign` copies along the map transitions, so its copies share one
 * map. Node 22 (V8 12.4) and Node 24 (V8 13.6) no longer have the problem (checked with %HaveSameMap).
 *
 * For small objects (what a request builds: bodies, headers, usage). Past ~16 properties Object.assign
 * turns the copy into a dictionary (V8 limits keyed stores to 12 properties beyond the 4 an empty
 * literal holds): there, give the source every key beforehand and spread over it (a spread that only
 * overwrites keys keeps one map), as the Responses shell does. A spread with no new keys, and a
 * spread of an object made once, are fine.
 */
export function copyWith<T extends object, F extends object>(base: T, fields: F): T & F {
  return Object.assign({}, base, fields);
}
