/**
 * @module `model_aliases` (aisbf.json): the model names clients hard-code (`claude-sonnet-4-5`,
 * `gpt-5-codex` …) mapped by glob onto any target. Compiled once per config (cached on the config
 * object, which a reload replaces); a lookup is one map probe for exact names and one regex test per
 * glob.
 */

export interface CompiledAliases {
  exact: ReadonlyMap<string, string>;
  globs: ReadonlyArray<{ re: RegExp; target: string }>;
}

const EMPTY: CompiledAliases = { exact: new Map(), globs: [] };
const compiled = new WeakMap<Readonly<Record<string, string>>, CompiledAliases>();

function globToRegExp(pattern: string): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '.';
    else src += ch.replace(/[\\^$.+()[\]{}|/-]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 's');
}

export function compileAliases(aliases: Readonly<Record<string, string>> | undefined): CompiledAliases {
  if (!aliases) return EMPTY;
  let c = compiled.get(aliases);
  if (!c) {
    const exact = new Map<string, string>();
    const globs: Array<{ re: RegExp; target: string }> = [];
    for (const [pattern, target] of Object.entries(aliases)) {
      if (/[*?]/.test(pattern)) globs.push({ re: globToRegExp(pattern), target });
      else exact.set(pattern, target);
    }
    c = { exact, globs };
    compiled.set(aliases, c);
  }
  return c;
}

/** The alias target of `model`, or undefined when no pattern matches. */
export function aliasTarget(aliases: Readonly<Record<string, string>> | undefined, model: string): string | undefined {
  if (!aliases) return undefined;
  const c = compileAliases(aliases);
  const hit = c.exact.get(model);
  if (hit !== undefined) return hit;
  for (const g of c.globs) if (g.re.test(model)) return g.target;
  return undefined;
}
