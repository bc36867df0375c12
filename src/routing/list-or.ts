/** @module The ids an error message offers: `a, b, c`, or `none` when there are none (the caller's wording). */
export function listOr(items: Iterable<string>, none: string): string {
  const a = [...items];
  return a.length ? a.join(', ') : none;
}
