import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

describe('autoselect.json validation', () => {
  it('refuses "selector": "embeddings" without an embedding_model, naming the file and field', () => {
    const dir = makeConfigDir({ autoselect: { auto: { selector: 'embeddings', fallback: 'general', available_models: [{ model_id: 'general', description: 'x' }] } } });
    try {
      expect(() => loadConfig({ dir, env: {} })).toThrow(ConfigError);
      expect(() => loadConfig({ dir, env: {} })).toThrow(/autoselect\.json.*embedding_model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
