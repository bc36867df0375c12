/**
 * @module The text an object was parsed from, kept beside it: an adapter that parsed an upstream's
 * JSON answer remembers its text, and the client-facing renderer sends those bytes (with its one
 * change spliced in) instead of serializing the object again.
 *
 * A WeakMap, not a property on the object: a copy (`copyWith`, a spread) or an object built from it
 * must not carry text that no longer matches it, and the entry goes when the object does. So a
 * remembered object is changed only where the renderer splices (a chat completion's `usage`); code
 * that needs any other change builds a new object, which carries no text.
 */
const RAW = new WeakMap<object, string>();

export function keepRawJson(value: object, text: string): void {
  RAW.set(value, text);
}

export function rawJsonOf(value: object): string | undefined {
  return RAW.get(value);
}
