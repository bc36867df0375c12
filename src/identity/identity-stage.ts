/**
 * @module The pipeline's identity stage over the IdentityService. HTTP requests arrive already
 * resolved (the identity middleware checked them at the edge and the meta carries no credentials);
 * a meta that still carries credentials is resolved here. Off when auth is off.
 */
import type { RequestMeta, Identity } from '../pipeline/request-meta.js';
import type { IdentityStage } from '../pipeline/stages.js';
import type { IdentityService } from './identity-service.js';

export function createIdentityStage(service: IdentityService): IdentityStage {
  return {
    get inactive() {
      return !service.enabled;
    },
    resolve(meta: RequestMeta): Identity | Promise<Identity> {
      // No credentials: the edge decided (the middleware on guarded paths; the glasses routes have
      // their own keys and stay anonymous here).
      if (meta.credentials === undefined) return meta.identity;
      return service.resolve(meta.credentials);
    },
  };
}
