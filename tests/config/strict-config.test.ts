import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SHIPPED_CONFIG_DIR } from '../../src/config/load-config.js';
import { closestName } from '../../src/config/did-you-mean.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => (p.path ? `${p.file}: ${p.path}: ${p.message}` : `${p.file}: ${p.message}`));
  }
  throw new Error('expected a ConfigError');
}

describe('unknown config keys are errors with the closest known key', () => {
  it('names the file, the JSON path and "endpoint" for a provider\'s "endpont"', () => {
    const dir = makeConfigDir({ providers: { local: { type: 'openai', endpont: 'http://127.0.0.1:8000/v1', models: [] } } });
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toContain('providers.json: providers.local.endpont: unknown key "endpont"; did you mean "endpoint"?');
  });

  it('catches "api_key_requried" and a top-level "rotation"', () => {
    const dir = makeConfigDir({
      providers: { p: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key_requried: false, models: [] } },
      rotationsFile: { rotation: {} },
    });
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems).toContain('providers.json: providers.p.api_key_requried: unknown key "api_key_requried"; did you mean "api_key_required"?');
    expect(problems).toContain('rotations.json: rotation: unknown key "rotation"; did you mean "rotations"?');
  });

  it('checks nested objects of every file: model entries, rotation entries, aisbf.json sections', () => {
    const dir = makeConfigDir({
      aisbf: { server: { prot: 1 }, logging: { levle: 'info' } },
      providers: { p: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', models: [{ name: 'm', context_sise: 10 }] } },
      rotations: { r: { providers: [{ provider_id: 'p', models: [{ name: 'm', wieght: 1, weight: 1 }] }] } },
      autoselect: { a: { fallback: 'r', selection_model: 'r', availble_models: [] } },
    });
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems).toContain('aisbf.json: server.prot: unknown key "prot"; did you mean "port"?');
    expect(problems).toContain('aisbf.json: logging.levle: unknown key "levle"; did you mean "level"?');
    expect(problems).toContain('providers.json: providers.p.models[0].context_sise: unknown key "context_sise"; did you mean "context_size"?');
    expect(problems).toContain('rotations.json: rotations.r.providers[0].models[0].wieght: unknown key "wieght"; did you mean "weight"?');
    expect(problems).toContain('autoselect.json: a.availble_models: unknown key "availble_models"; did you mean "available_models"?');
  });

  it('checks the sections this round added: queue, cache, batches, storage.redis, a model\'s queue limits', () => {
    const dir = makeConfigDir({
      aisbf: {
        queue: { max_concurent: 4 },
        cache: { ttl_second: 60 },
        batches: { max_concurrent_line: 2 },
        storage: { redis: { ulr: 'redis://127.0.0.1:6379' } },
      },
      providers: { p: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', models: [{ name: 'm', max_waitng: 3 }] } },
    });
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems).toContain('aisbf.json: queue.max_concurent: unknown key "max_concurent"; did you mean "max_concurrent"?');
    expect(problems).toContain('aisbf.json: cache.ttl_second: unknown key "ttl_second"; did you mean "ttl_seconds"?');
    expect(problems).toContain('aisbf.json: batches.max_concurrent_line: unknown key "max_concurrent_line"; did you mean "max_concurrent_lines"?');
    expect(problems).toContain('aisbf.json: storage.redis.ulr: unknown key "ulr"; did you mean "url"?');
    expect(problems).toContain('providers.json: providers.p.models[0].max_waitng: unknown key "max_waitng"; did you mean "max_waiting"?');
  });

  it('refuses out-of-range values in those sections, naming the field', () => {
    const dir = makeConfigDir({ aisbf: { queue: { max_concurrent: 0, timeout_seconds: -1 }, cache: { max_mb: -5 } } });
    const problems = problemsOf(() => loadConfig({ dir, env: {} })).join('\n');
    expect(problems).toContain('queue.max_concurrent');
    expect(problems).toContain('queue.timeout_seconds');
    expect(problems).toContain('cache.max_mb');
  });

  it('lists the known keys when nothing is close', () => {
    const dir = makeConfigDir({ aisbf: { defaults: { colour: 'blue' } } });
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toContain('aisbf.json: defaults.colour: unknown key "colour"; known keys here: timeout_seconds');
  });

  it('suggests only plausible typos', () => {
    expect(closestName('endpont', ['endpoint', 'type', 'models'])).toBe('endpoint');
    expect(closestName('xyz', ['endpoint', 'type'])).toBeUndefined();
  });

  it("keeps AISBF's own fields and the shipped files valid", () => {
    const dir = mkdtempSync(join(tmpdir(), 'aisbf-cfg-'));
    for (const f of ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json']) writeFileSync(join(dir, f), readFileSync(join(SHIPPED_CONFIG_DIR, f)));
    expect(() => loadConfig({ dir, env: {} })).not.toThrow();
    // AISBF 0.3.3 / 0.4 fields: id, name, rate_limit, rotation_id, notifyerrors, model_name, default_error_cooldown …
    const aisbfDir = makeConfigDir({
      condensation: { provider_id: 'p', model: 'm', rotation_id: null, enabled: true },
      providers: {
        p: {
          id: 'p', name: 'P', type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key_required: false, rate_limit: 0, default_error_cooldown: 300,
          models: [{ name: 'm', rate_limit: 0, max_request_tokens: 1000, rate_limit_TPM: 1, rate_limit_TPH: 1, rate_limit_TPD: 1, context_size: 8000, condense_context: 80, condense_method: 'algoritmic' }],
        },
      },
      rotationsFile: { notifyerrors: false },
      rotations: { r: { model_name: 'r', notifyerrors: true, providers: [{ provider_id: 'p', api_key: 'k', models: [{ name: 'm', weight: 1, rate_limit: 0 }] }] } },
      autoselect: { a: { model_name: 'a', description: 'd', selection_model: 'r', fallback: 'r', available_models: [{ model_id: 'r', description: 'x' }] } },
    });
    expect(() => loadConfig({ dir: aisbfDir, env: {} })).not.toThrow();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('first run only: defaults are copied into a new config dir, never over a deleted file', () => {
  it('creates the dir with the defaults and says so, once', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'aisbf-cfg-')), 'new');
    expect(loadConfig({ dir, env: {} }).created).toBe(true);
    expect(loadConfig({ dir, env: {} }).created).toBe(false);
  });

  it('reports a deleted providers.json as missing instead of using the shipped defaults', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'aisbf-cfg-')), 'new');
    loadConfig({ dir, env: {} });
    rmSync(join(dir, 'providers.json'));
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^providers\.json: missing: .*providers\.json does not exist; restore it, or run "aisbf config init"/);
  });
});

describe('invalid JSON is reported by line and column, naming comments and trailing commas', () => {
  const withRotations = (text: string) => {
    const dir = makeConfigDir({});
    writeFileSync(join(dir, 'rotations.json'), text);
    return problemsOf(() => loadConfig({ dir, env: {} }));
  };

  it('names a // comment', () => {
    expect(withRotations('{\n  // my rotations\n  "rotations": {}\n}\n')).toEqual([
      'rotations.json: invalid JSON at line 2, column 3: a comment (//): JSON does not allow comments; remove it',
    ]);
  });

  it('names a /* */ comment', () => {
    expect(withRotations('{ "rotations": {} /* none yet */ }')[0]).toBe('rotations.json: invalid JSON at line 1, column 19: a comment (/* */): JSON does not allow comments; remove it');
  });

  it('names a trailing comma', () => {
    expect(withRotations('{\n  "notifyerrors": false,\n  "rotations": {},\n}\n')[0]).toBe(
      'rotations.json: invalid JSON at line 3, column 18: a trailing comma before "}": JSON does not allow one; remove it',
    );
  });

  it('points at a missing comma and an early end', () => {
    expect(withRotations('{\n  "notifyerrors": false\n  "rotations": {}\n}')[0]).toBe('rotations.json: invalid JSON at line 3, column 3: unexpected "\\""; is a comma missing before it?');
    expect(withRotations('{ "rotations": ')[0]).toMatch(/^rotations\.json: invalid JSON at line 1, column 16: the file ends too early/);
  });
});

describe('environment variables and targets', () => {
  it('reports a missing variable once, not again as an invalid URL', () => {
    const dir = makeConfigDir({ providers: { p: { type: 'openai', endpoint: '${NOT_SET_ENDPOINT}', models: [] } } });
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toEqual(['providers.json: providers.p.endpoint: environment variable NOT_SET_ENDPOINT is not set']);
  });

  it('checks the glasses cascade and judge, the VisionAI target and the platform targets against the config', () => {
    const dir = makeConfigDir({
      providers: { p: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', models: [] } },
      rotations: { r: { providers: [{ provider_id: 'p', models: [{ name: 'm', weight: 1 }] }] } },
      aisbf: { glasses: { cascade: ['p/m', 'r', 'ghost/m', 'nowhere'], judge: 'ghost/big' }, visionai: { target: 'nope' }, platform: { image: 'ghost/sd' } },
    });
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems).toEqual([
      'aisbf.json: glasses.cascade[2]: "ghost/m": unknown provider id "ghost" (providers.json has: p)',
      'aisbf.json: glasses.cascade[3]: "nowhere": neither a rotation id, an autoselect id nor provider/model',
      'aisbf.json: glasses.judge: "ghost/big": unknown provider id "ghost" (providers.json has: p)',
      'aisbf.json: visionai.target: "nope": neither a rotation id, an autoselect id nor provider/model',
      'aisbf.json: platform.image: "ghost/sd": unknown provider id "ghost" (providers.json has: p)',
    ]);
  });

  it('notes that an openai provider without endpoint will use api.openai.com', () => {
    const dir = makeConfigDir({ providers: { local: { type: 'openai', models: [] } } });
    const cfg = loadConfig({ dir, env: {} });
    expect(cfg.notices.map((n) => `${n.file}: ${n.path}: ${n.message}`)).toEqual([
      'providers.json: providers.local: no "endpoint": requests will go to https://api.openai.com/v1 (set "endpoint" for a local or other OpenAI-compatible server)',
    ]);
  });

  it('does not forward a client\'s bearer unless the provider opts in', () => {
    const dir = makeConfigDir({ providers: { p: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', models: [] }, q: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', forward_client_key: true, models: [] } } });
    const cfg = loadConfig({ dir, env: {} });
    expect(cfg.providers.providers.p!.forward_client_key).toBe(false);
    expect(cfg.providers.providers.q!.forward_client_key).toBe(true);
  });
});
