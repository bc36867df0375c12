/**
 * @module The text an object was parsed from, kept beside it: an adapter that parsed an upstream's
 * JSON answer remembers its text, and the client-facing renderer sends those bytes (with its one
 * change spliced in) instead of serializing the object again.
 *
 * A WeakMap, not a property on the object: a copy (`copyWith`, a spread) or an object built from it
 * must not carry text that no longer matches it, and the entry goes when the object does. So a
 * remembered object is changed only where the renderer splices (a chat completion's `usage`); code
 * that needs any other change builds a new object, which carries no text.
 *
 * The bytes are kept too when the text is ASCII: the renderer then splices and sends bytes, skipping
 * the UTF-8 count and encoding of the whole text that writing a string costs.
 */
/** An answer's text, and the bytes it was decoded from when they index alike (every character one byte). */
export class RawJson {
  readonly asciiBytes: Uint8Array | undefined;
  constructor(
    readonly text: string,
    bytes: Uint8Array | undefined,
  ) {
    // Equal lengths ⇔ each byte decoded to one UTF-16 unit (ASCII; at worst a lone invalid byte as
    // U+FFFD), so the text's indexes are the bytes' indexes. Any other character takes more bytes.
    this.asciiBytes = bytes !== undefined && bytes.length === text.length ? bytes : undefined;
  }
}

const RAW = new WeakMap<object, RawJson>();

/** Remembers `text` (and, when given, the UTF-8 `bytes` it was decoded from) as what `value` was parsed from. */
export function keepRawJson(value: object, text: string, bytes?: Uint8Array): void {
  RAW.set(value, new RawJson(text, bytes));
}

export function rawJsonOf(value: object): RawJson | undefined {
  return RAW.get(value);
}
