/**
 * @module `GET /ui` (CONTRACTS §7.10 item 38): the dashboard's files, built by `npm run build` into
 * dist/ui (source in ui/). Only files found there are served — the request path is looked up in that
 * list, never joined onto a directory — with a strict Content-Security-Policy (no inline script, no
 * eval, nothing from another origin). With auth off the page answers loopback clients only, like
 * `/admin`; with auth on anyone may load it, and it asks for a login before it shows anything.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context, Hono } from 'hono';
import { HttpError } from '../../errors/http-error.js';
import { PACKAGE_ROOT } from '../../package-info.js';
import type { AppDeps, AppEnv } from '../app-env.js';
import { isLoopback } from '../admin-guard.js';
import { headerOf, incomingOf } from '../node-request.js';

export const UI_DIR = join(PACKAGE_ROOT, 'dist', 'ui');

export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};
/** What a request path may look like: plain segments, no dot-segments, no encoding tricks. */
const PATH_RE = /^(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** esbuild's content-hashed names (app-AB12CD34.js) never change content: cache them for a year. */
const HASHED_RE = /-[A-Z0-9]{8}\.[a-z]+$/;

interface UiFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  immutable: boolean;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Every servable file of dist/ui, read and compressed once. */
function loadFiles(dir: string): Map<string, UiFile> | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, UiFile>();
  for (const abs of walk(dir)) {
    const rel = relative(dir, abs).split(sep).join('/');
    const dot = rel.lastIndexOf('.');
    const type = dot >= 0 ? TYPES[rel.slice(dot)] : undefined;
    if (!type || !PATH_RE.test(rel) || rel.endsWith('.map')) continue;
    const body = readFileSync(abs);
    const gz = type.startsWith('image/png') ? undefined : gzipSync(body, { level: 9 });
    files.set(rel, {
      body,
      gzip: gz && gz.length < body.length ? gz : undefined,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      immutable: HASHED_RE.test(rel),
    });
  }
  return files;
}

export function registerUiRoutes(app: Hono<AppEnv>, deps: AppDeps, dir = UI_DIR): void {
  // Read on first use, not at start-up: a daemon that never shows the page never reads it.
  let files: Map<string, UiFile> | undefined;

  const serve = (c: Context<AppEnv>, name: string) => {
    if (!deps.identity.enabled && !isLoopback(incomingOf(c)?.socket.remoteAddress)) {
      throw new HttpError(403, 'The dashboard answers loopback clients only while auth is off; set auth.enabled in aisbf.json to use it from elsewhere.', { code: 'admin_loopback_only' });
    }
    files ??= loadFiles(dir);
    if (!files) throw new HttpError(503, 'The dashboard is not built: run `npm run build` (it writes dist/ui).', { code: 'ui_not_built' });
    const f = PATH_RE.test(name) ? files.get(name) : undefined;
    if (!f) throw new HttpError(404, 'No such dashboard file.', { code: 'unknown_url' });
    const headers: Record<string, string> = {
      'content-type': f.type,
      'content-security-policy': UI_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      // The page itself is revalidated every time (it names the current hashed assets).
      'cache-control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag: f.etag,
      vary: 'accept-encoding',
    };
    const inm = headerOf(c, 'if-none-match');
    if (inm !== undefined && inm.split(',').some((t) => t.trim() === f.etag)) return c.body(null, 304, headers);
    const gzipOk = f.gzip !== undefined && /\bgzip\b/.test(headerOf(c, 'accept-encoding') ?? '');
    if (gzipOk) headers['content-encoding'] = 'gzip';
    const body = gzipOk ? f.gzip! : f.body;
    headers['content-length'] = String(body.length);
    if (c.req.method === 'HEAD') return c.body(null, 200, headers);
    return c.body(new Uint8Array(body), 200, headers);
  };

  // Whether to show the login form straight away (no failed admin call first); no secret in it.
  app.get('/ui/auth.json', (c) => {
    if (!deps.identity.enabled && !isLoopback(incomingOf(c)?.socket.remoteAddress)) {
      throw new HttpError(403, 'The dashboard answers loopback clients only while auth is off.', { code: 'admin_loopback_only' });
    }
    return c.json({ auth_enabled: deps.identity.enabled }, 200, { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  });
  app.get('/ui', (c) => serve(c, 'index.html'));
  app.get('/ui/', (c) => serve(c, 'index.html'));
  app.get('/ui/*', (c) => serve(c, c.req.path.slice('/ui/'.length)));
}
