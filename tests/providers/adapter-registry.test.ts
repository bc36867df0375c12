import { describe, expect, it } from 'vitest';
import { ADAPTER_TYPES, OPTIONAL_METHODS, createAdapter } from '../../src/providers/create-adapter.js';
import { PROVIDER_TYPES, providerSchema } from '../../src/config/schema.js';

describe('the adapter registry', () => {
  for (const type of PROVIDER_TYPES) {
    it(`declares exactly the capability methods the ${type} adapter implements`, async () => {
      const config = providerSchema.parse({ type, endpoint: 'http://127.0.0.1:9', api_key: 'k' });
      const real = (await ADAPTER_TYPES[type].load())('p', config) as unknown as Record<string, unknown>;
      const implemented = OPTIONAL_METHODS.filter((m) => typeof real[m] === 'function');
      expect([...ADAPTER_TYPES[type].methods].sort()).toEqual([...implemented].sort());
      const lazy = createAdapter('p', config) as unknown as Record<string, unknown>;
      expect(OPTIONAL_METHODS.filter((m) => typeof lazy[m] === 'function').sort()).toEqual([...implemented].sort());
    });
  }
});
