import { describe, expect, it } from 'vitest';
import { compileScope } from '../../src/identity/model-scope.js';
import { isLoopback } from '../../src/server/admin-guard.js';

describe('model scopes', () => {
  it('matches a bare pattern against ids and model parts, a pattern with / against the whole target', () => {
    const allowed = compileScope(['gpt-4o*', 'anthropic/*', 'team-rotation']);
    expect(allowed('openai/gpt-4o-mini')).toBe(true);
    expect(allowed('gpt-4o')).toBe(true);
    expect(allowed('anthropic/claude-sonnet-4')).toBe(true);
    expect(allowed('team-rotation')).toBe(true);
    expect(allowed('openai/o3')).toBe(false);
    expect(allowed('other/claude-sonnet-4')).toBe(false);
    expect(compileScope(['a.b'])('axb')).toBe(false); // no regex leaks through
  });
});

describe('loopback check of the admin guard', () => {
  it('accepts 127/8, ::1 and IPv4-mapped loopback only', () => {
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '', undefined, '1270.0.0.1']) expect(isLoopback(a)).toBe(false);
  });
});
