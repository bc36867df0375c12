/**
 * @module The stores the batch routes and the batch runner share, one set per database (created on
 * first use, so a server that never sees a batch never creates its tables' statements), and the
 * caller's ownership label.
 */
import { mkdirSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { BatchStore } from '../store/batch-store.js';
import { BatchFileStore } from '../store/batch-files.js';
import { ANONYMOUS, type Identity } from '../pipeline/request-meta.js';
import type { Runtime } from '../runtime.js';

export interface JobStores {
  batches: BatchStore;
  files: BatchFileStore;
}

const byDb = new WeakMap<Db, JobStores>();

export function jobStores(db: Db): JobStores {
  let s = byDb.get(db);
  if (!s) {
    s = { batches: new BatchStore(db), files: new BatchFileStore(db) };
    byDb.set(db, s);
  }
  return s;
}

/** `batches.files_dir` resolved against the config dir, created (0700) when missing. */
export function filesDir(rt: Runtime): string {
  const dir = rt.config.resolvePath(rt.config.aisbf.batches.files_dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Who owns a file or batch: the key, the user, or (auth off) everyone. */
export function ownerOf(identity: Identity | undefined): string {
  const id = identity ?? ANONYMOUS;
  if (id.keyId) return `key:${id.keyId}`;
  if (id.user) return `user:${id.user}`;
  return id.kind;
}

/** The owner filter of a listing: none for admins and when auth is off. */
export function visibleOwner(identity: Identity | undefined): string | undefined {
  return !identity || identity.role === 'admin' ? undefined : ownerOf(identity);
}
