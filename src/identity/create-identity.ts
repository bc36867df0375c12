/**
 * @module Builds everything identity needs from the database and the live config: the stores, the
 * in-memory key/user cache, the counters (local now; Redis later behind the same interface), the
 * service, and the pipeline's identity and limits stages.
 */
import type { AuthConfig } from '../config/auth-config.js';
import type { IdentityStage, LimitsStage } from '../pipeline/stages.js';
import { ApiKeyStore } from '../store/api-keys.js';
import { AuthRevision } from '../store/auth-revision.js';
import { LocalCounterStore, type CounterStore } from '../store/counters.js';
import type { Db } from '../store/db.js';
import { UserStore } from '../store/users.js';
import { AuthCache } from './auth-cache.js';
import { IdentityService } from './identity-service.js';
import { createIdentityStage } from './identity-stage.js';
import { createLimitsStage } from './limits-stage.js';

export interface IdentityParts {
  service: IdentityService;
  identityStage: IdentityStage;
  limitsStage: LimitsStage;
  /** Writes pending spend. */
  close(): Promise<void>;
}

export function createIdentity(opts: { db: Db; auth(): AuthConfig; configDir: string; clock?: () => number; counters?: CounterStore }): IdentityParts {
  const revision = new AuthRevision(opts.db);
  revision.watchWrites(opts.db.name);
  const keys = new ApiKeyStore(opts.db, revision);
  const users = new UserStore(opts.db, revision);
  const cache = new AuthCache(keys, users, revision);
  const counters = opts.counters ?? new LocalCounterStore({ db: opts.db });
  const service = new IdentityService({ auth: opts.auth, configDir: opts.configDir, cache, keys, users, counters, clock: opts.clock });
  return {
    service,
    identityStage: createIdentityStage(service),
    limitsStage: createLimitsStage({ cache, counters, clock: opts.clock }),
    close: async () => {
      revision.close();
      await counters.close();
    },
  };
}
