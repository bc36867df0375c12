/**
 * @module Finds the config dir, copies the shipped defaults in on first run, interpolates ${ENV},
 * validates the four files and cross-checks them. Every problem names the file, the JSON path and
 * what is wrong (with "did you mean …?" for an unknown key), so a person can act on it.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { PACKAGE_ROOT } from '../package-info.js';
import { closestName } from './did-you-mean.js';
import { parseJsonText } from './json-errors.js';
import { knownKeysAt } from './schema-keys.js';
import { providerModelRef, splitModelRef } from './model-ref.js';
import {
  CONFIG_FILES,
  type AisbfFile,
  type AutoselectFile,
  type ConfigFileName,
  type ProvidersFile,
  type RotationsFile,
} from './schema.js';

export const SHIPPED_CONFIG_DIR = join(PACKAGE_ROOT, 'config');

export interface ConfigProblem {
  file: string;
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: ConfigProblem): string {
  return p.path ? `${p.file}: ${p.path}: ${p.message}` : `${p.file}: ${p.message}`;
}

export interface Config {
  dir: string;
  aisbf: AisbfFile;
  providers: ProvidersFile;
  rotations: RotationsFile;
  autoselect: AutoselectFile;
  /** The selector skill text (autoselect.md). */
  autoselectPrompt: string;
  /** The OCR prompt (ocr.md; POST /api/ocr). */
  ocrPrompt: string;
  /** Provider id → the environment variable its api_key names but that is unset. */
  missingKeyEnv: Map<string, string>;
  /** True when this load created the config dir with the shipped defaults (first run). */
  created: boolean;
  /** Valid but worth saying (`aisbf config check` prints them, the server logs them at start). */
  notices: ConfigProblem[];
  /** Resolves a path from the config (relative to the config dir). */
  resolvePath(p: string): string;
}

export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.AISBF_CONFIG_DIR ? resolve(env.AISBF_CONFIG_DIR) : join(homedir(), '.aisbf');
}

const SHIPPED_FILES = ['aisbf.json', 'providers.json', 'rotations.json', 'autoselect.json', 'autoselect.md', 'ocr.md'] as const;

/**
 * Is this the first run for `dir`? True when it does not exist or holds none of the four config
 * files (an empty dir someone made by hand). Only then are the defaults copied in: a file deleted
 * later is an error, never silently replaced by a default.
 */
export function isFreshConfigDir(dir: string): boolean {
  return !Object.keys(CONFIG_FILES).some((name) => existsSync(join(dir, name)));
}

/** First run only: creates the dir with the shipped defaults. True if it did. */
export function createConfigDirIfFresh(dir: string): boolean {
  if (!isFreshConfigDir(dir)) return false;
  ensureConfigDir(dir);
  return true;
}

/** `aisbf config init`: creates the dir and copies in every shipped file that is missing. Returns what was copied. */
export function ensureConfigDir(dir: string, force = false): string[] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const copied: string[] = [];
  for (const name of SHIPPED_FILES) {
    const target = join(dir, name);
    if (!force && existsSync(target)) continue;
    copyFileSync(join(SHIPPED_CONFIG_DIR, name), target);
    copied.push(name);
  }
  return copied;
}

const ENV_RE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces ${NAME} and ${NAME:-default} in every string. An unset variable in an `api_key` is not an
 * error (the shipped defaults start with no keys): the key is dropped and the variable remembered.
 */
function interpolate(
  value: unknown,
  path: (string | number)[],
  file: string,
  env: NodeJS.ProcessEnv,
  problems: ConfigProblem[],
  onMissingKey: (path: (string | number)[], name: string) => void,
  envProblemPaths: Set<string> = new Set(),
): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    let missing: string | undefined;
    const out = value.replace(ENV_RE, (_m, name: string, def: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (def !== undefined) return def;
      missing ??= name;
      return '';
    });
    if (missing === undefined) return out;
    if (path[path.length - 1] === 'api_key') {
      onMissingKey(path, missing);
      return undefined;
    }
    problems.push({ file, path: jsonPath(path), message: `environment variable ${missing} is not set` });
    // Reported once: the schema's complaint about the half-filled value (say, "invalid URL") is dropped.
    envProblemPaths.add(jsonPath(path));
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], file, env, problems, onMissingKey, envProblemPaths));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = interpolate(v, [...path, k], file, env, problems, onMissingKey, envProblemPaths);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

function jsonPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s;
}

function readJson(dir: string, name: string, problems: ConfigProblem[]): unknown {
  const file = join(dir, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? `missing: ${file} does not exist; restore it, or run "aisbf config init" to write the shipped default (existing files are kept)`
        : `cannot read ${file}: ${(err as Error).message}`;
    problems.push({ file: name, path: '', message });
    return undefined;
  }
  const parsed = parseJsonText(text);
  if (parsed.ok) return parsed.value;
  const { line, column, message } = parsed.error;
  problems.push({ file: name, path: '', message: `invalid JSON at line ${line}, column ${column}: ${message}` });
  return undefined;
}

function validate<S extends z.ZodType>(schema: S, data: unknown, file: string, problems: ConfigProblem[], skipPaths: ReadonlySet<string>): z.infer<S> | undefined {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  for (const issue of r.error.issues) {
    const at = jsonPath(issue.path);
    if (skipPaths.has(at)) continue;
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const guess = closestName(key, known);
        const hint = guess ? `did you mean "${guess}"?` : known.length ? `known keys here: ${known.join(', ')}` : 'nothing may be set here';
        problems.push({ file, path: jsonPath([...issue.path, key]), message: `unknown key "${key}"; ${hint}` });
      }
      continue;
    }
    problems.push({ file, path: at, message: issue.message });
  }
  return undefined;
}

/** Checks what one file says about another: rotation, autoselect and aisbf.json target references. */
function crossCheck(aisbf: AisbfFile | undefined, providers: ProvidersFile, rotations: RotationsFile, autoselect: AutoselectFile, problems: ConfigProblem[]): void {
  const providerIds = Object.keys(providers.providers);
  for (const [rid, rot] of Object.entries(rotations.rotations)) {
    rot.providers.forEach((p, i) => {
      if (!providers.providers[p.provider_id]) {
        problems.push({
          file: 'rotations.json',
          path: `rotations.${rid}.providers[${i}].provider_id`,
          message: `unknown provider id "${p.provider_id}" (providers.json has: ${providerIds.join(', ') || 'none'})`,
        });
      }
    });
  }
  const isTarget = (t: string) => {
    if (rotations.rotations[t]) return true;
    return providerModelRef(providers.providers, t) !== undefined;
  };
  for (const [aid, sel] of Object.entries(autoselect)) {
    const check = (value: string | undefined, path: string) => {
      if (value !== undefined && !isTarget(value)) {
        problems.push({ file: 'autoselect.json', path: `${aid}.${path}`, message: `"${value}" is neither a rotation id nor provider/model` });
      }
    };
    check(sel.fallback, 'fallback');
    if (sel.selector === 'chat') check(sel.selection_model, 'selection_model');
    sel.available_models.forEach((m, i) => check(m.model_id, `available_models[${i}].model_id`));
    if (sel.selector === 'embeddings' && !sel.embedding_model) {
      problems.push({ file: 'autoselect.json', path: `${aid}.embedding_model`, message: 'required when selector is "embeddings"' });
    }
  }
  const c = providers.condensation;
  if (c?.provider_id && !providers.providers[c.provider_id]) {
    problems.push({ file: 'providers.json', path: 'condensation.provider_id', message: `unknown provider id "${c.provider_id}"` });
  }
  if (aisbf) checkAisbfTargets(aisbf, (t) => isTarget(t) || autoselect[t] !== undefined, providerIds, problems);
}

/** The glasses cascade and judge, the VisionAI target and the platform routes' targets. */
function checkAisbfTargets(aisbf: AisbfFile, isTarget: (t: string) => boolean, providerIds: string[], problems: ConfigProblem[]): void {
  const check = (value: string | undefined, path: string) => {
    if (!value || isTarget(value)) return;
    const ref = splitModelRef(value);
    const why = ref
        ? `unknown provider id "${ref.providerId}" (providers.json has: ${providerIds.join(', ') || 'none'})`
        : 'neither a rotation id, an autoselect id nor provider/model';
    problems.push({ file: 'aisbf.json', path, message: `"${value}": ${why}` });
  };
  aisbf.glasses.cascade.forEach((t, i) => check(t, `glasses.cascade[${i}]`));
  check(aisbf.glasses.judge, 'glasses.judge');
  check(aisbf.visionai.target, 'visionai.target');
  for (const [key, value] of Object.entries(aisbf.platform)) if (typeof value === 'string') check(value, `platform.${key}`);
  for (const [pattern, target] of Object.entries(aisbf.model_aliases ?? {})) check(target, `model_aliases.${pattern}`);
}

/** Valid settings worth a word: an OpenAI-type provider without `endpoint` talks to api.openai.com. */
function collectNotices(providers: ProvidersFile): ConfigProblem[] {
  const notices: ConfigProblem[] = [];
  for (const [id, p] of Object.entries(providers.providers)) {
    if (p.type === 'openai' && p.endpoint === undefined && p.enabled) {
      notices.push({ file: 'providers.json', path: `providers.${id}`, message: 'no "endpoint": requests will go to https://api.openai.com/v1 (set "endpoint" for a local or other OpenAI-compatible server)' });
    }
  }
  return notices;
}

export interface LoadOptions {
  dir?: string;
  env?: NodeJS.ProcessEnv;
  /** First run (no config dir yet): create it with the shipped defaults. Default true. */
  init?: boolean;
}

/** Loads and validates the whole config; throws ConfigError listing every problem found. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const dir = resolve(opts.dir ?? defaultConfigDir(env));
  const created = opts.init !== false && createConfigDirIfFresh(dir);
  const problems: ConfigProblem[] = [];
  const missingKeyEnv = new Map<string, string>();

  const parsed = {} as { [K in ConfigFileName]?: unknown };
  for (const name of Object.keys(CONFIG_FILES) as ConfigFileName[]) {
    const raw = readJson(dir, name, problems);
    if (raw === undefined) continue;
    const envProblemPaths = new Set<string>();
    const withEnv = interpolate(
      raw,
      [],
      name,
      env,
      problems,
      (path, varName) => {
        if (name === 'providers.json' && path[0] === 'providers') missingKeyEnv.set(String(path[1]), varName);
      },
      envProblemPaths,
    );
    parsed[name] = validate(CONFIG_FILES[name], withEnv, name, problems, envProblemPaths);
  }
  const aisbf = parsed['aisbf.json'] as AisbfFile | undefined;
  const providers = parsed['providers.json'] as ProvidersFile | undefined;
  const rotations = parsed['rotations.json'] as RotationsFile | undefined;
  const autoselect = parsed['autoselect.json'] as AutoselectFile | undefined;
  if (providers && rotations && autoselect) crossCheck(aisbf, providers, rotations, autoselect, problems);
  if (problems.length || !aisbf || !providers || !rotations || !autoselect) throw new ConfigError(problems);

  const mdPath = existsSync(join(dir, 'autoselect.md')) ? join(dir, 'autoselect.md') : join(SHIPPED_CONFIG_DIR, 'autoselect.md');
  return {
    dir,
    aisbf,
    providers,
    rotations,
    autoselect,
    autoselectPrompt: readFileSync(mdPath, 'utf8'),
    ocrPrompt: readFileSync(existsSync(join(dir, 'ocr.md')) ? join(dir, 'ocr.md') : join(SHIPPED_CONFIG_DIR, 'ocr.md'), 'utf8'),
    missingKeyEnv,
    created,
    notices: collectNotices(providers),
    resolvePath: (p: string) => (isAbsolute(p) ? p : join(dir, p)),
  };
}
