/**
 * @module `aisbf config migrate`: rewrites each config file of a dir to the current format version
 * (config-version.ts), one step per version, keeping the old text beside it as `<file>.bak`. Works on
 * the raw JSON, so it can upgrade a file the current schema would refuse.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VERSION } from './config-version.js';

export const VERSIONED_FILES = ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json'] as const;
export type VersionedFile = (typeof VERSIONED_FILES)[number];

type Json = Record<string, unknown>;

/**
 * STEPS[n] turns a file at version n into version n + 1 (it may rename or move keys). Version 0 is a
 * file without a `version` field: the format before versioning, which version 1 left unchanged.
 */
const STEPS: ReadonlyArray<(file: VersionedFile, data: Json) => Json> = [(_file, data) => data];

export interface MigrateResult {
  file: string;
  /** The version found (0: none). */
  from: number;
  to: number;
  /** Where the old text was kept; undefined when the file was already current (left untouched). */
  backup?: string;
}

export class MigrateError extends Error {
  override readonly name = 'MigrateError';
}

function versionOf(file: string, data: Json): number {
  const v = data.version;
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new MigrateError(`${file}: "version" must be a whole number from 1 (found ${JSON.stringify(v)})`);
  if (v > CONFIG_VERSION) throw new MigrateError(`${file}: version ${v} was written by a newer aisbf; this one writes up to ${CONFIG_VERSION}. Upgrade aisbf rather than migrate down`);
  return v;
}

/** The file's data at the current version, with `version` as its first key. */
export function migrateData(file: VersionedFile, data: Json): { data: Json; from: number } {
  const from = versionOf(file, data);
  let out = data;
  for (let v = from; v < CONFIG_VERSION; v++) out = STEPS[v]!(file, out);
  const { version: _old, ...rest } = out;
  return { data: { version: CONFIG_VERSION, ...rest }, from };
}

/**
 * Migrates every config file present in `dir` (missing ones are read from the shipped defaults at
 * load time and need nothing). Checks all files before writing any, so a bad file changes nothing.
 */
export function migrateConfigDir(dir: string): MigrateResult[] {
  const plans: Array<{ path: string; file: VersionedFile; text: string; next: Json; from: number }> = [];
  for (const file of VERSIONED_FILES) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new MigrateError(`${file}: invalid JSON (${(err as Error).message}); fix it by hand first`);
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new MigrateError(`${file}: expected a JSON object`);
    const { data: next, from } = migrateData(file, data as Json);
    plans.push({ path, file, text, next, from });
  }
  const results: MigrateResult[] = [];
  for (const p of plans) {
    if (p.from === CONFIG_VERSION) {
      results.push({ file: p.file, from: p.from, to: CONFIG_VERSION });
      continue;
    }
    const backup = `${p.path}.bak`;
    writeFileSync(backup, p.text, { mode: 0o600 });
    // Write beside, then rename: a crash leaves the old file or the new one, never half of either.
    const tmp = `${p.path}.migrating`;
    writeFileSync(tmp, `${JSON.stringify(p.next, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, p.path);
    results.push({ file: p.file, from: p.from, to: CONFIG_VERSION, backup });
  }
  return results;
}
