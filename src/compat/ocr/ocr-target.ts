/**
 * @module Which models serve an OCR request: the request's `model` (a rotation id or
 * `provider/model`), else aisbf.json `ocr.target`, else every configured model that declares `ocr`,
 * else every one that declares `vision` (in providers.json order, tried in turn). Candidates of a
 * rotation that declare neither are dropped; none left is a 400 naming the capabilities.
 */
import { HttpError } from '../../errors/http-error.js';
import type { Candidate } from '../../routing/candidate.js';
import { declares } from '../../routing/capability-filter.js';
import { candidatesForName } from '../../routing/target-candidates.js';
import type { Runtime } from '../../runtime.js';
import { splitModelRef } from '../../config/model-ref.js';
import type { TargetRef } from '../../pipeline/pipeline-request.js';

function canRead(c: Candidate): boolean {
  return declares(c, 'ocr') || declares(c, 'vision');
}

/** OCR models first, then vision models; order kept within each. */
function preferOcr(list: readonly Candidate[]): Candidate[] {
  return [...list.filter((c) => declares(c, 'ocr')), ...list.filter((c) => !declares(c, 'ocr') && declares(c, 'vision'))];
}

const NONE = "No model can serve OCR: declare \"ocr\" (a dedicated OCR model) or \"vision\" in a model's capabilities in providers.json, or set ocr.target in aisbf.json.";

function named(rt: Runtime, name: string, param: string): TargetRef {
  const isRotation = rt.rotations.has(name);
  const ref = isRotation ? undefined : splitModelRef(name);
  if (!isRotation && !ref) {
    throw new HttpError(400, `Model '${name}' not found: name a rotation id or provider/model.`, { param, code: 'model_not_found' });
  }
  if (ref && !Object.hasOwn(rt.config.providers.providers, ref.providerId)) {
    throw new HttpError(400, `Model '${name}' not found: no provider '${ref.providerId}'.`, { param, code: 'model_not_found' });
  }
  const all = candidatesForName(rt, name);
  // A provider/model the client named is taken as it is, unless its declared capabilities rule it out.
  const direct = !isRotation;
  const able = direct ? all.filter((c) => !c.settings.capabilities || canRead(c)) : preferOcr(all);
  if (able.length === 0) {
    throw new HttpError(400, `'${name}' cannot serve OCR: ${direct ? 'it declares' : 'none of its members declares'} the 'ocr' or 'vision' capability.`, { param, code: 'unsupported_capability' });
  }
  return { candidates: able, rotationId: isRotation ? name : undefined, name };
}

export function ocrTarget(rt: Runtime, model: string | undefined, configured: string | undefined): TargetRef {
  if (model) return named(rt, model, 'model');
  if (configured) return named(rt, configured, 'ocr.target');
  const byCapability = (cap: 'ocr' | 'vision'): Candidate[] => {
    const out: Candidate[] = [];
    for (const [id, p] of Object.entries(rt.config.providers.providers)) {
      if (!p.enabled) continue;
      for (const m of p.models) {
        if (!m.capabilities?.includes(cap)) continue;
        const c = rt.candidate(id, m.name);
        if (c) out.push(c);
      }
    }
    return out;
  };
  const ocr = byCapability('ocr');
  const list = ocr.length ? ocr : byCapability('vision');
  if (list.length === 0) throw new HttpError(400, NONE, { param: 'model', code: 'unsupported_capability' });
  return { candidates: list, name: list.length === 1 ? list[0]!.key : 'ocr' };
}
