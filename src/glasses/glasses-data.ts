/**
 * @module The glasses app's data, as both the daemon and the CLI use it: the three tables (opened
 * and migrated together), the provider keys sealed per profile, the images directory and the removal
 * of image files together with their rows.
 */
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load-config.js';
import type { Db } from '../store/db.js';
import { ActivityStore, type Deleted } from '../store/activity.js';
import { BlacklistStore } from '../store/blacklist.js';
import { ProfileStore, type ProfileRecord } from '../store/profiles.js';
import { loadEncryptionKey, open, seal } from './secret-box.js';

export interface GlassesStores {
  profiles: ProfileStore;
  activity: ActivityStore;
  blacklist: BlacklistStore;
}

export function openGlassesStores(db: Db): GlassesStores {
  return { profiles: new ProfileStore(db), activity: new ActivityStore(db), blacklist: new BlacklistStore(db) };
}

/** The provider keys a profile may bring (Frame-Backend's `api_keys`). */
export const API_KEY_NAMES = ['gemini_api_key', 'deepseek_api_key', 'qwen_api_key', 'chatgpt_api_key'] as const;
export type ApiKeyName = (typeof API_KEY_NAMES)[number];
export type ProfileApiKeys = Partial<Record<ApiKeyName, string>>;

const keyCache = new WeakMap<Config, Buffer>();

/** The AES key for this config (aisbf.json, env, or `<configdir>/glasses.key`), resolved once per config. */
export function encryptionKey(config: Config, env: NodeJS.ProcessEnv = process.env): Buffer {
  let key = keyCache.get(config);
  if (!key) {
    key = loadEncryptionKey({ configured: config.aisbf.glasses.encryption_key, env, configDir: config.dir });
    keyCache.set(config, key);
  }
  return key;
}

const aad = (username: string) => `aisbf-glasses-profile:${username}`;

export function sealApiKeys(key: Buffer, username: string, keys: ProfileApiKeys): { sealed: string; names: ApiKeyName[] } {
  const names = API_KEY_NAMES.filter((n) => keys[n]);
  if (names.length === 0) return { sealed: '', names };
  const plain = Object.fromEntries(names.map((n) => [n, keys[n]]));
  return { sealed: seal(key, JSON.stringify(plain), aad(username)), names };
}

/** The profile's provider keys; none when unset or when the blob cannot be opened (key changed). */
export function openApiKeys(key: Buffer, p: ProfileRecord, log?: Logger): ProfileApiKeys {
  if (!p.apiKeysSealed) return {};
  try {
    return JSON.parse(open(key, p.apiKeysSealed, aad(p.username))) as ProfileApiKeys;
  } catch {
    log?.warn({ username: p.username }, 'glasses: cannot decrypt a profile\'s provider keys (was the encryption key changed?); ignoring them');
    return {};
  }
}

export function imagesDir(config: Config): string {
  return join(config.resolvePath(config.aisbf.storage.data_dir), 'glasses-images');
}

export function ensureImagesDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Names we generate: 32 hex characters and a known extension. Anything else is never unlinked. */
export const IMAGE_FILE_RE = /^[0-9a-f]{32}\.(jpg|png|webp|gif)$/;

/** Unlinks image files by name inside `dir`; a file already gone is fine. Returns how many were removed. */
export function deleteImageFiles(dir: string, names: readonly string[], log?: Logger): number {
  let n = 0;
  for (const name of names) {
    if (!IMAGE_FILE_RE.test(name)) continue;
    try {
      unlinkSync(join(dir, name));
      n++;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn({ file: name, err: (err as Error).message }, 'glasses: cannot delete an image file');
    }
  }
  return n;
}

/** Deletes a profile, its activity rows and their image files. false when there was no such profile. */
export function deleteProfileWithData(stores: GlassesStores, dir: string, username: string, log?: Logger): { deleted: boolean; removed: Deleted } {
  const removed = stores.activity.deleteForProfile(username);
  deleteImageFiles(dir, removed.imageFiles, log);
  return { deleted: stores.profiles.delete(username), removed };
}
