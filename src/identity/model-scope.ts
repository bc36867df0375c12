/**
 * @module A key's `models` scope: glob patterns (`*` = any run of characters) compiled once when the
 * key is loaded. A pattern with a `/` is matched against the whole target (`openai/gpt-4o*`); one
 * without is matched against a rotation or autoselect id and against a `provider/model`'s model
 * part (`gpt-4o*` allows `openai/gpt-4o-mini`), as LiteLLM's model lists read.
 */
import { splitModelRef } from '../config/model-ref.js';

export type ScopeMatcher = (target: string) => boolean;

function globToRegExp(pattern: string): RegExp {
  const body = pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${body}$`);
}

export function compileScope(patterns: readonly string[]): ScopeMatcher {
  const full: RegExp[] = [];
  const bare: RegExp[] = [];
  for (const p of patterns) (p.includes('/') ? full : bare).push(globToRegExp(p));
  return (target) => {
    for (const re of full) if (re.test(target)) return true;
    if (bare.length === 0) return false;
    const ref = splitModelRef(target);
    for (const re of bare) if (re.test(target) || (ref !== undefined && re.test(ref.model))) return true;
    return false;
  };
}

/** Why a pattern is refused when a key is created, or undefined. */
export function scopePatternProblem(p: string): string | undefined {
  if (!p.trim()) return 'a model pattern is empty';
  if (p.length > 200) return `the model pattern "${p.slice(0, 40)}…" is longer than 200 characters`;
  if (/[\s\0]/.test(p)) return `the model pattern ${JSON.stringify(p)} contains whitespace or NUL`;
  return undefined;
}
