// Talks to aisbf's own /admin and /auth routes only (same origin). The credential lives in
// sessionStorage (gone when the tab closes) and travels only in the Authorization header: never in
// a URL, never in a cookie, so a cross-site page cannot make these calls on the admin's behalf.
const TOKEN = 'aisbf.token';
const REFRESH = 'aisbf.refresh';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN);
  },
  set(token, refresh) {
    sessionStorage.setItem(TOKEN, token);
    if (refresh) sessionStorage.setItem(REFRESH, refresh);
    else sessionStorage.removeItem(REFRESH);
  },
  clear() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(REFRESH);
  },
};

function headers(extra) {
  const h = { accept: 'application/json', ...extra };
  const t = session.token;
  if (t) h.authorization = `Bearer ${t}`;
  return h;
}

async function errorOf(res) {
  let code = null;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code ?? null;
      message = body.error.message ?? message;
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message);
}

let refreshing;
/** One refresh at a time; false when there is no refresh token or it no longer works. */
async function refresh() {
  const rt = sessionStorage.getItem(REFRESH);
  if (!rt) return false;
  refreshing ??= fetch('/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: rt }) })
    .then(async (res) => {
      if (!res.ok) return false;
      const body = await res.json();
      sessionStorage.setItem(TOKEN, body.access_token);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/** JSON from a same-origin path; throws ApiError with the server's message. */
export async function api(path, { method = 'GET', body } = {}) {
  const init = () => ({ method, headers: headers(body !== undefined ? { 'content-type': 'application/json' } : {}), body: body !== undefined ? JSON.stringify(body) : undefined });
  let res = await fetch(path, init());
  if (res.status === 401 && (await refresh())) res = await fetch(path, init());
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

/** The role claim of an access token (for the message only: the server checks every call). */
function roleOf(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)).role;
  } catch {
    return undefined;
  }
}

export async function login(username, password) {
  const res = await fetch('/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'password', username, password }) });
  if (!res.ok) throw await errorOf(res);
  const body = await res.json();
  if (roleOf(body.access_token) !== 'admin') throw new ApiError(403, 'admin_required', 'That account is not an admin.');
  session.set(body.access_token, body.refresh_token);
}

/** Whether auth is on, so the page can ask for a login before any admin call. */
export async function authEnabled() {
  const res = await fetch('/ui/auth.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()).auth_enabled === true;
}

/**
 * Reads /admin/events (server-sent events) with fetch, so the bearer header goes along (EventSource
 * cannot send one). Calls onEvent(type, data) per event; reconnects after a drop until stopped.
 */
export function liveFeed(onEvent, onStatus) {
  let stopped = false;
  let ctrl;
  async function run() {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch('/admin/events', { headers: headers({ accept: 'text/event-stream' }), signal: ctrl.signal });
        if (!res.ok) throw await errorOf(res);
        onStatus('open');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          buf += value;
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let type = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
            }
            if (data.length) {
              try {
                onEvent(type, JSON.parse(data.join('\n')));
              } catch {
                // a malformed event is skipped, the feed goes on
              }
            }
          }
        }
      } catch (err) {
        if (stopped) return;
        onStatus(err instanceof ApiError ? `error: ${err.message}` : 'reconnecting');
      }
      if (!stopped) await new Promise((r) => setTimeout(r, 3000));
    }
  }
  run();
  return () => {
    stopped = true;
    ctrl?.abort();
  };
}
