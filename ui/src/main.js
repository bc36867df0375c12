import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html } from './html.js';
import { api, ApiError, authEnabled, login, session } from './api.js';
import { ProvidersPanel } from './panels/providers.js';
import { RotationsPanel } from './panels/rotations.js';
import { LivePanel } from './panels/live.js';
import { UsagePanel } from './panels/usage.js';
import { KeysPanel } from './panels/keys.js';
import { BatchesPanel } from './panels/batches.js';

const POLL_MS = 3000;

function Login({ onDone, message }) {
  const [mode, setMode] = useState('password');
  const [error, setError] = useState(message ?? null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if (mode === 'password') await login(String(f.get('username')), String(f.get('password')));
      else session.set(String(f.get('key')).trim());
      await api('/admin/state');
      onDone();
    } catch (err) {
      if (mode === 'key') session.clear();
      setError(err instanceof ApiError && err.status === 403 ? 'That account is not an admin.' : err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<main class="login">
    <form class="card" onSubmit=${submit} aria-labelledby="login-title">
      <h1 id="login-title">aisbf dashboard</h1>
      <p class="muted">Auth is on: log in as an admin.</p>
      <div class="seg" role="radiogroup" aria-label="How to log in">
        <label><input type="radio" name="mode" checked=${mode === 'password'} onChange=${() => setMode('password')} /> Log in with a password</label>
        <label><input type="radio" name="mode" checked=${mode === 'key'} onChange=${() => setMode('key')} /> Log in with a key</label>
      </div>
      ${mode === 'password'
        ? html`<label>Username <input name="username" autocomplete="username" required /></label>
            <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>`
        : html`<label>Admin key or token <input name="key" type="password" autocomplete="off" required /></label>`}
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy}>Log in</button>
    </form>
  </main>`;
}

function Header({ state, onLogout, feedStatus }) {
  const status = state?.health?.status;
  return html`<header class="top">
    <div class="brand"><strong>aisbf</strong> <span class="muted">${state ? `v${state.version}` : ''}</span>
      ${status && html`<span class=${`badge ${status === 'healthy' ? 'ok' : 'bad'}`} title=${(state.health.problems || []).join('\n')}>${status}</span>`}
    </div>
    <nav aria-label="Panels">
      <a href="#providers">Providers</a><a href="#rotations">Rotations</a><a href="#live">Live</a><a href="#usage">Usage</a><a href="#keys">Keys</a><a href="#batches">Batches</a>
    </nav>
    ${session.token && html`<button class="ghost" onClick=${onLogout}>Log out</button>`}
  </header>`;
}

function Dashboard({ onAuthLost }) {
  const [state, setState] = useState(null);
  const [models, setModels] = useState(null);
  const [error, setError] = useState(null);

  const refresh = useCallback(async () => {
    try {
      const [s, m] = await Promise.all([api('/admin/state'), api('/admin/models').catch((e) => (e.code === 'accounting_unavailable' ? { data: [], providers: [] } : Promise.reject(e)))]);
      s.clockOffset = Date.parse(s.now) - Date.now();
      setState(s);
      setModels(m);
      setError(null);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) onAuthLost(err.message);
      else setError(err.message);
    }
  }, [onAuthLost]);

  useEffect(() => {
    refresh();
    const t = setInterval(() => {
      if (!document.hidden) refresh();
    }, POLL_MS);
    return () => clearInterval(t);
  }, [refresh]);

  return html`<${Header} state=${state} onLogout=${() => onAuthLost(null)} />
    <main class="grid">
      ${error && html`<p class="error wide" role="alert">Cannot reach aisbf: ${error}</p>`}
      <${ProvidersPanel} state=${state} models=${models} onChanged=${refresh} />
      <${RotationsPanel} state=${state} />
      <${LivePanel} />
      <${UsagePanel} />
      <${KeysPanel} authEnabled=${state?.auth_enabled} />
      <${BatchesPanel} available=${state?.batches} />
    </main>`;
}

function App() {
  const [phase, setPhase] = useState({ name: 'loading' });
  const check = useCallback(async () => {
    try {
      if (!session.token && (await authEnabled())) {
        setPhase({ name: 'login' });
        return;
      }
      await api('/admin/state');
      setPhase({ name: 'ready' });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'admin_loopback_only') setPhase({ name: 'denied', message: err.message });
      else if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        session.clear();
        setPhase({ name: 'login' });
      } else setPhase({ name: 'down', message: err.message });
    }
  }, []);
  useEffect(() => {
    check();
  }, [check]);
  const lost = useCallback((message) => {
    session.clear();
    setPhase({ name: 'login', message });
  }, []);

  if (phase.name === 'loading') return html`<main class="center muted" aria-busy="true">Loading…</main>`;
  if (phase.name === 'login') return html`<${Login} message=${phase.message} onDone=${() => setPhase({ name: 'ready' })} />`;
  if (phase.name === 'denied' || phase.name === 'down')
    return html`<main class="center"><div class="card"><h1>aisbf dashboard</h1><p class="error" role="alert">${phase.message}</p><button onClick=${check}>Retry</button></div></main>`;
  return html`<${Dashboard} onAuthLost=${lost} />`;
}

render(html`<${App} />`, document.getElementById('app'));
