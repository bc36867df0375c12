/**
 * @module `POST …/embeddings` on every base: OpenAI's request and response, served by the candidates
 * that declare `embeddings` (or the provider/model the client named) with failover between them.
 */
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { EmbedRequest } from '../../providers/provider-adapter.js';
import type { Scope } from '../../routing/resolve-target.js';
import { NEEDS } from '../../routing/capability-filter.js';
import { checkScope, onEveryBase, runCapabilityRoute } from '../capability-request.js';
import { parseJsonBody, zodToHttpError } from '../../inbound/json-body.js';
import { servedHeaders } from '../../inbound/served-headers.js';
import { readBodyText } from '../read-body.js';
import { requireFields } from '../capability-schemas.js';

const embedSchema = z.looseObject({
  model: z.string().min(1).optional(),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()).min(1), z.array(z.array(z.number()).min(1)).min(1)], {
    error: 'expected a string, an array of strings, an array of token ids or an array of token-id arrays',
  }),
  encoding_format: z.enum(['float', 'base64'], { error: "expected 'float' or 'base64'" }).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});

async function handleEmbeddings(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  checkScope(rt, scope);
  const body = parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024));
  requireFields(body, ['input']);
  const parsed = embedSchema.safeParse(body);
  if (!parsed.success) throw zodToHttpError(parsed.error);
  const req = parsed.data as EmbedRequest;
  const r = await runCapabilityRoute(c, deps, rt, {
    route: 'embeddings',
    scope,
    model: req.model,
    need: NEEDS.embeddings,
    call: (cand, ctx) => cand.adapter.embed!(req, ctx),
    usageOf: (v) => (v.usage ? { prompt_tokens: v.usage.prompt_tokens ?? 0, completion_tokens: 0, total_tokens: v.usage.total_tokens ?? v.usage.prompt_tokens ?? 0 } : undefined),
  });
  return c.json(r.value, 200, servedHeaders(r.served));
}

export function registerEmbeddingRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  onEveryBase(app, 'post', '/embeddings', (c, scope) => handleEmbeddings(c, deps, scope));
}
