import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { makeConfigDir, type TestConfig } from '../helpers/aisbf-server.js';

const providers = {
  alpha: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'sk-alpha', models: [{ name: 'm1', context_size: 8000 }] },
  beta: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'sk-beta', models: [] },
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function load(cfg: TestConfig) {
  const dir = makeConfigDir({ providers, ...cfg });
  dirs.push(dir);
  return loadConfig({ dir, env: {} });
}

function problems(cfg: TestConfig): string[] {
  try {
    load(cfg);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected the config to be rejected');
}

describe('rotations.json validation', () => {
  it('accepts AISBF rotations with our additions and reads default_error_cooldown', () => {
    const cfg = load({
      rotationsFile: { notifyerrors: true, default_error_cooldown: 120 },
      rotations: {
        general: {
          model_name: 'general',
          strategy: 'priority',
          max_attempts: 2,
          failure_threshold: 5,
          default_error_cooldown: 60,
          notifyerrors: false,
          providers: [{ provider_id: 'alpha', api_key: 'sk-rot', models: [{ name: 'm1', weight: 3, rate_limit_TPM: 1000 }] }],
        },
      },
    });
    const rot = cfg.rotations.rotations.general!;
    expect(rot.strategy).toBe('priority');
    expect(rot.max_attempts).toBe(2);
    expect(rot.default_error_cooldown).toBe(60);
    expect(cfg.rotations.notifyerrors).toBe(true);
    expect(cfg.rotations.default_error_cooldown).toBe(120);
  });

  it('defaults the strategy to weighted', () => {
    const cfg = load({ rotations: { r: { providers: [{ provider_id: 'alpha', models: [{ name: 'm1', weight: 1 }] }] } } });
    expect(cfg.rotations.rotations.r!.strategy).toBe('weighted');
  });

  it('names the rotation and field of an unknown provider id', () => {
    const p = problems({ rotations: { general: { providers: [{ provider_id: 'nope', models: [{ name: 'm1', weight: 1 }] }] } } });
    expect(p).toContainEqual(expect.stringMatching(/^rotations\.json: rotations\.general\.providers\[0\]\.provider_id: unknown provider id "nope" \(providers\.json has: alpha, beta\)$/));
  });

  it('rejects a zero weight naming the rotation and field', () => {
    const p = problems({ rotations: { general: { providers: [{ provider_id: 'alpha', models: [{ name: 'm1', weight: 0 }] }] } } });
    expect(p).toContain('rotations.json: rotations.general.providers[0].models[0].weight: weight must be greater than 0');
  });

  it('rejects a negative weight', () => {
    const p = problems({ rotations: { fast: { providers: [{ provider_id: 'alpha', models: [{ name: 'm1', weight: -2 }] }] } } });
    expect(p).toContain('rotations.json: rotations.fast.providers[0].models[0].weight: weight must be greater than 0');
  });

  it('rejects a missing weight', () => {
    const p = problems({ rotations: { general: { providers: [{ provider_id: 'alpha', models: [{ name: 'm1' }] }] } } });
    expect(p).toContain('rotations.json: rotations.general.providers[0].models[0].weight: weight is required and must be a number');
  });

  it('rejects an empty rotation', () => {
    const p = problems({ rotations: { empty: { providers: [] } } });
    expect(p).toContain('rotations.json: rotations.empty.providers: a rotation needs at least one provider');
  });

  it('rejects a rotation provider without models', () => {
    const p = problems({ rotations: { general: { providers: [{ provider_id: 'alpha', models: [] }] } } });
    expect(p).toContain('rotations.json: rotations.general.providers[0].models: a rotation provider needs at least one model');
  });

  it('rejects an unknown strategy, a zero max_attempts and a zero failure_threshold', () => {
    const p = problems({
      rotations: { general: { strategy: 'roundrobin', max_attempts: 0, failure_threshold: 0, providers: [{ provider_id: 'alpha', models: [{ name: 'm1', weight: 1 }] }] } },
    });
    expect(p).toContainEqual(expect.stringMatching(/^rotations\.json: rotations\.general\.strategy: .*"weighted".*"priority"/));
    expect(p).toContainEqual(expect.stringMatching(/^rotations\.json: rotations\.general\.max_attempts: /));
    expect(p).toContainEqual(expect.stringMatching(/^rotations\.json: rotations\.general\.failure_threshold: /));
  });

  it('rejects a negative cooldown_seconds', () => {
    const p = problems({ rotations: { general: { cooldown_seconds: -1, providers: [{ provider_id: 'alpha', models: [{ name: 'm1', weight: 1 }] }] } } });
    expect(p).toContainEqual(expect.stringMatching(/^rotations\.json: rotations\.general\.cooldown_seconds: /));
  });
});

describe('a rotation where no provider has a key', () => {
  it('answers 401 naming every variable to set', async () => {
    const { startAisbf } = await import('../helpers/aisbf-server.js');
    const server = await startAisbf({
      providers: {
        a: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: '${A_KEY}', models: [{ name: 'm' }] },
        b: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: '${B_KEY}', models: [{ name: 'm' }] },
      },
      rotations: { both: { providers: [{ provider_id: 'a', models: [{ name: 'm', weight: 1 }] }, { provider_id: 'b', models: [{ name: 'm', weight: 1 }] }] } },
    });
    try {
      const res = await fetch(`${server.url}/api/rotations/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'both', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { message: string; code: string } };
      expect(body.error.code).toBe('missing_api_key');
      expect(body.error.message).toContain("rotation 'both'");
      expect(body.error.message).toContain('A_KEY');
      expect(body.error.message).toContain('B_KEY');
    } finally {
      await server.close();
    }
  });
});
