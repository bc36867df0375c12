/**
 * @module The label values metrics may carry, computed once per config load: configured provider
 * ids and the model names the config names for each of them. Anything else a request carried (a
 * free-text model a client sent to an open provider) becomes `other`, so the metrics registry cannot
 * grow with client input.
 */
import type { Runtime } from '../runtime.js';
import { splitModelRef } from '../config/model-ref.js';

export const OTHER = 'other';
/** No provider/model was reached (refused before planning, e.g. 401, 429 budget). */
export const NONE = 'none';

/** The routes of RequestMeta.route; any other value is reported as `other`. */
export const KNOWN_ROUTES: ReadonlySet<string> = new Set([
  'chat', 'embeddings', 'images', 'speech', 'transcription', 'video', 'responses', 'messages', 'platform',
  'visionai', 'glasses', 'ocr', 'batch', 'internal:selector', 'internal:condense', 'internal:judge', 'internal:glasses',
  'internal:check',
]);

export class LabelSet {
  private readonly models = new Map<string, Set<string>>();

  constructor(rt: Runtime) {
    const cfg = rt.config;
    for (const [id, p] of Object.entries(cfg.providers.providers)) this.models.set(id, new Set(p.models.map((m) => m.name)));
    for (const list of rt.rotations.values()) for (const c of list) this.add(c.providerId, c.model);
    // Targets written as provider/model anywhere in the config (autoselect, condensation, compat routes).
    const targets: Array<string | null | undefined> = [
      cfg.providers.condensation?.provider_id && cfg.providers.condensation.model ? `${cfg.providers.condensation.provider_id}/${cfg.providers.condensation.model}` : undefined,
      ...Object.values(cfg.autoselect).flatMap((a) => [a.selection_model, a.fallback, a.embedding_model, ...a.available_models.map((m) => m.model_id)]),
      ...cfg.aisbf.glasses.cascade,
      cfg.aisbf.glasses.judge,
      cfg.aisbf.visionai.target,
      ...Object.values(cfg.aisbf.platform).map((v) => (typeof v === 'string' ? v : undefined)),
    ];
    for (const t of targets) {
      const ref = t ? splitModelRef(t) : undefined;
      if (ref) this.add(ref.providerId, ref.model);
    }
  }

  private add(provider: string, model: string): void {
    this.models.get(provider)?.add(model);
  }

  route(route: string): string {
    return KNOWN_ROUTES.has(route) ? route : OTHER;
  }

  provider(id: string | undefined): string {
    if (id === undefined) return NONE;
    return this.models.has(id) ? id : OTHER;
  }

  model(provider: string | undefined, model: string | undefined): string {
    if (provider === undefined || model === undefined) return NONE;
    return this.models.get(provider)?.has(model) ? model : OTHER;
  }

  /** Every configured provider/model pair (the cooldown gauge's series). */
  *pairs(): Iterable<[string, string]> {
    for (const [p, set] of this.models) for (const m of set) yield [p, m];
  }
}
