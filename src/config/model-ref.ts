/**
 * @module The one parser of `provider/model` strings (rotation entries, autoselect targets, a
 * client's `model`, candidate keys, admin ids). It sits in the config leaf because the config
 * checks need it as much as routing does. The split is at the first slash: provider ids never hold
 * one, model names may (Hugging Face's `org/name`).
 */

export interface ModelRef {
  providerId: string;
  model: string;
}

/** `provider/model` → its halves; undefined when there is no non-empty provider part before a slash. */
export function splitModelRef(ref: string): ModelRef | undefined {
  const slash = ref.indexOf('/');
  return slash > 0 ? { providerId: ref.slice(0, slash), model: ref.slice(slash + 1) } : undefined;
}

/**
 * The same, only when the provider part is one of `providers` (own keys only: `constructor/x` or
 * `__proto__/x` name no provider).
 */
export function providerModelRef(providers: Readonly<Record<string, unknown>>, ref: string): ModelRef | undefined {
  const r = splitModelRef(ref);
  return r && Object.hasOwn(providers, r.providerId) ? r : undefined;
}
