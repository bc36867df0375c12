import { describe, expect, it } from 'vitest';
import { providerModelRef, splitModelRef } from '../../src/config/model-ref.js';

describe('the one provider/model parser', () => {
  it('splits at the first slash, so a Hugging Face org/name stays the model', () => {
    expect(splitModelRef('huggingface/stabilityai/sdxl')).toEqual({ providerId: 'huggingface', model: 'stabilityai/sdxl' });
    expect(splitModelRef('openai/gpt-4o')).toEqual({ providerId: 'openai', model: 'gpt-4o' });
  });

  it('needs a provider part: a bare id or a leading slash is not provider/model', () => {
    expect(splitModelRef('my-rotation')).toBeUndefined();
    expect(splitModelRef('/gpt-4o')).toBeUndefined();
  });

  it('counts only configured providers’ own keys', () => {
    const providers = { openai: {} };
    expect(providerModelRef(providers, 'openai/gpt-4o')).toEqual({ providerId: 'openai', model: 'gpt-4o' });
    expect(providerModelRef(providers, 'other/gpt-4o')).toBeUndefined();
    expect(providerModelRef(providers, 'constructor/x')).toBeUndefined();
    expect(providerModelRef(providers, '__proto__/x')).toBeUndefined();
  });
});
