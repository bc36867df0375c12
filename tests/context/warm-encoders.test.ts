import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { encodingsNeeded, warmEncoders } from '../../src/context/warm-encoders.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

describe('warmEncoders', () => {
  it('builds only the encodings that condensation or splitting settings need', () => {
    const dir = makeConfigDir({
      providers: {
        p: {
          type: 'openai',
          endpoint: 'http://127.0.0.1:9/v1',
          api_key: 'k',
          models: [{ name: 'gpt-4o', context_size: 1000, condense_context: 80, condense_method: 'algorithmic' }, { name: 'plain-model', context_size: 1000 }],
        },
      },
      rotations: { r: { providers: [{ provider_id: 'p', models: [{ name: 'llama-3', weight: 1, max_request_tokens: 500 }] }] } },
    });
    try {
      const config = loadConfig({ dir, env: {} });
      expect(encodingsNeeded(config).sort()).toEqual(['cl100k_base', 'o200k_base']);
      expect(warmEncoders(config).sort()).toEqual(['cl100k_base', 'o200k_base']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const none = makeConfigDir({ providers: { p: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k', models: [{ name: 'gpt-4o', context_size: 1000 }] } } });
    try {
      expect(encodingsNeeded(loadConfig({ dir: none, env: {} }))).toEqual([]);
    } finally {
      rmSync(none, { recursive: true, force: true });
    }
  });
});
