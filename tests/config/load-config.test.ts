import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'aisbf-cfg-'));

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('loading the config', () => {
  it('copies the shipped defaults into an empty config dir on first run and starts without any key', () => {
    const dir = fresh();
    const cfg = loadConfig({ dir, env: {} });
    for (const f of ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json', 'autoselect.md']) expect(existsSync(join(dir, f))).toBe(true);
    expect(cfg.aisbf.server.port).toBe(17765);
    expect(cfg.aisbf.server.host).toBe('127.0.0.1');
    expect(cfg.providers.providers.openai!.api_key).toBeUndefined();
    expect(cfg.missingKeyEnv.get('openai')).toBe('OPENAI_API_KEY');
    expect(cfg.autoselectPrompt).toContain('aisbf_model_autoselection');
  });

  it('never overwrites files the user already has', () => {
    const dir = fresh();
    loadConfig({ dir, env: {} });
    const edited = JSON.parse(readFileSync(join(dir, 'aisbf.json'), 'utf8'));
    edited.server.port = 18000;
    writeFileSync(join(dir, 'aisbf.json'), JSON.stringify(edited));
    expect(loadConfig({ dir, env: {} }).aisbf.server.port).toBe(18000);
  });

  it('fills ${NAME} and ${NAME:-default} from the environment', () => {
    const dir = makeConfigDir({
      providers: { p: { type: 'openai', endpoint: '${UPSTREAM:-http://127.0.0.1:9/v1}', api_key: '${MY_KEY}', models: [] } },
    });
    const cfg = loadConfig({ dir, env: { MY_KEY: 'sk-from-env' } });
    expect(cfg.providers.providers.p!.api_key).toBe('sk-from-env');
    expect(cfg.providers.providers.p!.endpoint).toBe('http://127.0.0.1:9/v1');
  });

  it('names the file, JSON path and variable when a non-key variable is unset', () => {
    const dir = makeConfigDir({ providers: { p: { type: 'openai', endpoint: '${NOT_SET_ENDPOINT}', models: [] } } });
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toContain('providers.json: providers.p.endpoint: environment variable NOT_SET_ENDPOINT is not set');
  });

  it('reports an unsupported provider type with its path', () => {
    const dir = makeConfigDir({ providers: { bad: { type: 'cohere', models: [] } } });
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems.some((p) => p.startsWith('providers.json: providers.bad.type: unsupported provider type "cohere"'))).toBe(true);
  });

  it('reports invalid JSON with the file name', () => {
    const dir = makeConfigDir({});
    writeFileSync(join(dir, 'rotations.json'), '{ "rotations": ');
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems[0]).toMatch(/^rotations\.json: invalid JSON/);
  });

  it('reports every problem at once, across files', () => {
    const dir = makeConfigDir({
      aisbf: { server: { port: 'eighty' } },
      providers: { p: { type: 'openai', models: [{ name: 'm', context_size: -5 }] } },
      rotations: { r: { providers: [{ provider_id: 'ghost', models: [{ name: 'm', weight: 0 }] }] } },
    });
    const problems = problemsOf(() => loadConfig({ dir, env: {} }));
    expect(problems.some((p) => p.startsWith('aisbf.json: server.port:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('providers.json: providers.p.models[0].context_size:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('rotations.json: rotations.r.providers[0].models[0].weight: weight must be greater than 0'))).toBe(true);
  });

  it('rejects a rotation that names an unknown provider', () => {
    const dir = makeConfigDir({
      providers: { p: { type: 'openai', models: [] } },
      rotations: { r: { providers: [{ provider_id: 'ghost', models: [{ name: 'm', weight: 1 }] }] } },
    });
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toContain('rotations.json: rotations.r.providers[0].provider_id: unknown provider id "ghost" (providers.json has: p)');
  });

  it('rejects an autoselect whose fallback is neither a rotation nor provider/model', () => {
    const dir = makeConfigDir({
      providers: { p: { type: 'openai', models: [] } },
      autoselect: { a: { fallback: 'nowhere', selection_model: 'p/m', available_models: [{ model_id: 'p/m', description: 'x' }] } },
    });
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toContain('autoselect.json: a.fallback: "nowhere" is neither a rotation id nor provider/model');
  });
});
