/**
 * @module `GET /admin/keys`, `POST /admin/keys`, `DELETE /admin/keys/{id}` (CONTRACTS §7.4 item 31):
 * the same keys as `aisbf key …`. A new key is in the POST answer only (`key`); lists never show more
 * than a hint. `/admin/*` is behind the admin guard (createApp mounts it).
 */
import type { Hono } from 'hono';
import { HttpError } from '../../errors/http-error.js';
import { createApiKey, createKeySchema, KeyInputError, publicKey } from '../../identity/api-keys.js';
import { periodWindow } from '../../identity/budget-period.js';
import { spendKeyOf } from '../../identity/limits-stage.js';
import type { AppDeps, AppEnv } from '../app-env.js';
import { readBodyText } from '../read-body.js';

const KEY_ID_RE = /^key_[0-9a-f]{16}$/;

export function registerAdminKeyRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const identity = deps.identity;

  app.get('/admin/keys', async (c) => {
    const now = Date.now();
    const data = await Promise.all(
      identity.keys.list().map(async (k) => {
        const view: ReturnType<typeof publicKey> & { spent_usd?: number } = publicKey(k, now);
        // What the budget has used in its current period.
        if (k.budgetPeriod) view.spent_usd = await identity.counters.spent(spendKeyOf(k.id), periodWindow(k.budgetPeriod, now).id);
        return view;
      }),
    );
    return c.json({ object: 'list', data });
  });

  app.post('/admin/keys', async (c) => {
    let body: unknown;
    try {
      body = JSON.parse(await readBodyText(c, 64 * 1024));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'The body must be a JSON object like {"name":"ci","rpm":60}.', { code: 'invalid_request' });
    }
    const parsed = createKeySchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || null;
      throw new HttpError(400, field ? `Invalid '${field}': ${issue.message}` : issue.message, { param: field, code: 'invalid_value' });
    }
    try {
      const { record, key } = createApiKey(identity.keys, identity.users, parsed.data);
      identity.invalidate();
      return c.json({ ...publicKey(record), key }, 201);
    } catch (err) {
      if (err instanceof KeyInputError) throw new HttpError(400, err.message, { code: 'invalid_value' });
      throw err;
    }
  });

  app.delete('/admin/keys/:id', (c) => {
    const id = c.req.param('id');
    if (!KEY_ID_RE.test(id) || !identity.keys.revoke(id)) throw new HttpError(404, 'No active API key with that id (GET /admin/keys lists them).', { param: 'id', code: 'key_not_found' });
    identity.invalidate();
    return c.json({ id, object: 'api_key', deleted: true });
  });
}
