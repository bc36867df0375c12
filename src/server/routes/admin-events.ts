/**
 * @module `GET /admin/events` (CONTRACTS §7.10 item 38): the dashboard's live request feed as
 * server-sent events, one `data:` JSON per settled request (server/event-feed.ts bounds and drops).
 * Behind the admin guard like everything under `/admin`.
 */
import type { Hono } from 'hono';
import { HttpError } from '../../errors/http-error.js';
import type { AppDeps, AppEnv } from '../app-env.js';
import { EventFeed, FEED_MAX_CLIENTS } from '../event-feed.js';
import { incomingOf } from '../node-request.js';

/** Mounts the route; the feed is returned so `/admin/state` can show its counters. */
export function registerAdminEventRoutes(app: Hono<AppEnv>, deps: AppDeps): EventFeed | undefined {
  const acc = deps.accounting;
  const feed = acc ? new EventFeed((fn) => acc.stage.subscribe(fn)) : undefined;
  if (feed) deps.closing?.addEventListener('abort', () => feed.endAll(), { once: true });
  app.get('/admin/events', (c) => {
    if (!feed) throw new HttpError(503, 'Accounting is not running in this server, so there is no live feed.', { code: 'accounting_unavailable' });
    const socket = incomingOf(c)?.socket;
    const body = feed.open(() => socket?.destroy());
    if (!body) throw new HttpError(503, `Too many live feeds are open (${FEED_MAX_CLIENTS}); close a dashboard tab and retry.`, { code: 'too_many_feeds' });
    return new Response(body, {
      headers: {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        // Tells nginx-style proxies not to buffer the stream.
        'x-accel-buffering': 'no',
      },
    });
  });
  return feed;
}
