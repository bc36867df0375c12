/**
 * model_aliases: glob matching (exact names first, then globs in the order written), compiled once per
 * config object, and `aisbf config check` refusing a target that does not exist.
 */
import { describe, expect, it } from 'vitest';
import { aliasTarget, compileAliases } from '../../src/routing/model-aliases.js';
import { loadConfig } from '../../src/config/load-config.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

describe('model aliases', () => {
  const aliases = { 'claude-haiku-*': 'fast', 'claude-*': 'coding', 'gpt-5-codex': 'openai/gpt-4o', 'o?-mini': 'small' };

  it('matches exact names before globs, and globs in the order written', () => {
    expect(aliasTarget(aliases, 'gpt-5-codex')).toBe('openai/gpt-4o');
    expect(aliasTarget(aliases, 'claude-haiku-4-5')).toBe('fast');
    expect(aliasTarget(aliases, 'claude-sonnet-4-6')).toBe('coding');
    expect(aliasTarget(aliases, 'o3-mini')).toBe('small');
    expect(aliasTarget(aliases, 'o10-mini')).toBeUndefined();
    expect(aliasTarget(aliases, 'gemini-2.5')).toBeUndefined();
    expect(aliasTarget(undefined, 'claude-x')).toBeUndefined();
  });

  it('treats regex characters in patterns literally', () => {
    expect(aliasTarget({ 'a.b+(c)*': 't' }, 'a.b+(c)-x')).toBe('t');
    expect(aliasTarget({ 'a.b+(c)*': 't' }, 'axb+(c)-x')).toBeUndefined();
  });

  it('compiles once per config object', () => {
    expect(compileAliases(aliases)).toBe(compileAliases(aliases));
  });

  it('config check names an alias whose target does not exist', () => {
    const dir = makeConfigDir({
      providers: { openai: { type: 'openai', api_key: 'k', models: [{ name: 'gpt-4o' }] } },
      rotations: { coding: { model_name: 'coding', providers: [{ provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 1 }] }] } },
      aisbf: { model_aliases: { 'claude-*': 'coding', 'gpt-*': 'missing/gpt-4o', 'o*': 'nowhere' } },
    });
    let message = '';
    try {
      loadConfig({ dir, env: {} });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('model_aliases.gpt-*');
    expect(message).toContain('unknown provider id "missing"');
    expect(message).toContain('model_aliases.o*');
    expect(message).not.toContain('model_aliases.claude-*');
  });
});
