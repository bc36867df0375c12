import { describe, expect, it } from 'vitest';
import { capabilityCheck } from '../../src/routing/autoselect-capable.js';
import type { Candidate } from '../../src/routing/candidate.js';
import type { ChatRequest } from '../../src/providers/provider-adapter.js';

const candidate = (capabilities?: Array<'chat' | 'vision' | 'documents'>) => ({ model: 'm', key: 'p/m', settings: { capabilities } }) as unknown as Candidate;

describe('capabilityCheck with file parts', () => {
  const req: ChatRequest = {
    model: 'auto',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'read this' }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } }] }],
  };

  it('keeps models that read documents natively or see images, and drops text-only ones', () => {
    const check = capabilityCheck(req);
    expect(check.canServe(candidate(['chat', 'documents']))).toBe(true);
    expect(check.canServe(candidate(['chat', 'vision']))).toBe(true);
    expect(check.canServe(candidate(undefined))).toBe(true);
    expect(check.canServe(candidate(['chat']))).toBe(false);
  });

  it('does not ask for documents when there is no file part', () => {
    expect(capabilityCheck({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }).canServe(candidate(['chat']))).toBe(true);
  });
});
