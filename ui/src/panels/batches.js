import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api.js';
import { Badge, Empty, Panel } from './common.js';

const REFRESH_MS = 5000;
const ENDED = new Set(['completed', 'failed', 'expired', 'cancelled', 'cancelling']);

function when(sec) {
  return sec ? new Date(sec * 1000).toISOString().slice(0, 16).replace('T', ' ') : '–';
}

/** The OpenAI batch shapes: GET /v1/batches, POST /v1/batches/{id}/cancel. */
export function BatchesPanel({ available }) {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const load = useCallback(() => api('/v1/batches?limit=50').then((b) => (setList(b.data), setError(null))).catch((e) => setError(e.message)), []);
  useEffect(() => {
    if (!available) return;
    load();
    const t = setInterval(() => !document.hidden && load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [available, load]);
  async function cancel(id) {
    try {
      await api(`/v1/batches/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
      load();
    } catch (err) {
      setError(err.message);
    }
  }
  if (available === false) return html`<${Panel} id="batches" title="Batches"><${Empty}>Batches are not available in this server (no /v1/batches API).<//><//>`;
  return html`<${Panel} id="batches" title="Batches">
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${list && list.length === 0 && html`<${Empty}>No batches.<//>`}
    ${list && list.length > 0 && html`<ul class="batches">${list.map((b) => {
      const c = b.request_counts ?? { total: 0, completed: 0, failed: 0 };
      const done = c.completed + c.failed;
      return html`<li key=${b.id} data-batch=${b.id}>
        <div><code>${b.id}</code> <${Badge} value=${b.status} /> <span class="muted">${b.endpoint} · ${when(b.created_at)}</span></div>
        <div class="progress-row"><progress max=${c.total || 1} value=${done} aria-label=${`${done} of ${c.total} requests done`}></progress>
          <span class="progress-text">${done}/${c.total}${c.failed ? html` <span class="err-text">(${c.failed} failed)</span>` : ''}</span>
          ${!ENDED.has(b.status) && html`<button class="small" onClick=${() => cancel(b.id)} aria-label=${`Cancel batch ${b.id}`}>Cancel</button>`}</div>
      </li>`;
    })}</ul>`}
  <//>`;
}
