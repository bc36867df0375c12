/**
 * @module Who is asking, on which route, how urgently: the per-request facts every pipeline stage
 * reads. Built once at the edge by the route (or by an internal caller, with `parent` set).
 */
import type { ClientKeys } from '../routing/candidate.js';
import type { AbortLike } from '../providers/lite-abort.js';

export type Priority = 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];

/** Credentials as the client sent them; the identity stage turns them into an Identity. */
export interface Credentials {
  /** `Authorization: Bearer …` */
  bearer?: string;
  /** `x-api-key` / `X-API-Key` (Anthropic clients, the seed's keys). */
  apiKey?: string;
}

/** Limits attached to an API key (issue 14); absent fields mean "no limit". */
export interface KeyLimits {
  rpm?: number;
  tpm?: number;
  maxParallel?: number;
  budgetUsd?: number;
  budgetPeriod?: 'day' | 'week' | 'month';
}

export interface Identity {
  /** anonymous: auth off; static: aisbf.json auth.tokens; key: sk-aisbf-…; user: a JWT access token. */
  kind: 'anonymous' | 'static' | 'key' | 'user';
  role: 'admin' | 'user';
  /** API key id (kind key). */
  keyId?: string;
  /** Key name (kind key): the default client id. */
  keyName?: string;
  /** User name (kind user, or the key's owner). */
  user?: string;
  /** Glob patterns of the targets this identity may call; undefined = everything. */
  models?: readonly string[];
  limits?: KeyLimits;
}

export const ANONYMOUS: Identity = Object.freeze({ kind: 'anonymous', role: 'admin' }) as Identity;

export interface RequestMeta {
  /**
   * What kind of request, for usage records, metrics and logs: 'chat', 'embeddings', 'images',
   * 'speech', 'transcription', 'video', 'responses', 'messages', 'platform', 'visionai', 'glasses',
   * 'ocr', 'batch', or for internal calls 'internal:selector' | 'internal:condense' | 'internal:judge'.
   */
  route: string;
  requestId: string;
  /** X-Client-ID (validated), else the key's name, else 'anonymous'. */
  clientId: string;
  priority: Priority;
  identity: Identity;
  /** Credentials still to be checked by the identity stage (undefined once resolved). */
  credentials?: Credentials;
  /** Provider keys the client brought (x-aisbf-provider-key, forwarded bearer). */
  keys: ClientKeys;
  /** Aborts when the client goes away (lite-abort.ts: `toAbortSignal` where an API needs a real one). */
  signal: AbortLike;
  /** Set on internal calls: the request id that caused this one. */
  parent?: string;
  /** Cache-Control: no-cache / no-store on the request. */
  noCache?: boolean;
  /** ms since epoch when the request arrived. */
  startedAt: number;
}
