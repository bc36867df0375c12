import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api.js';
import { fmtSeconds } from '../format.js';
import { Badge, Empty, Panel } from './common.js';

function remaining(until, offset) {
  if (!until) return null;
  return Math.max(0, Math.ceil((Date.parse(until) - (Date.now() + offset)) / 1000));
}

function StopStart({ id, stopped, onChanged, label }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function toggle() {
    setBusy(true);
    setError(null);
    try {
      await api(`/admin/models/${encodeURIComponent(id)}/${stopped ? 'start' : 'stop'}`, { method: 'POST' });
      await onChanged();
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<button class="small" disabled=${busy} onClick=${toggle} aria-label=${`${stopped ? 'Start' : 'Stop'} ${label ?? id}`} title=${error ?? ''}>${stopped ? 'Start' : 'Stop'}</button>`;
}

/** `cooling down until <ISO> (m1, m2)` → `cooling down (m1, m2)`: the rows below show the time left. */
function shortStatus(s) {
  return String(s).replace(/ until \S+/, '');
}

function queueText(q) {
  if (!q) return '–';
  return `${q.processing}/${q.max_concurrent ?? '∞'} · ${q.waiting} waiting`;
}

export function ProvidersPanel({ state, models, onChanged }) {
  if (!state || !models) return html`<${Panel} id="providers" title="Providers and models" wide><p class="muted">Loading…</p><//>`;
  const offset = state.clockOffset ?? 0;
  if (!models.providers.length) return html`<${Panel} id="providers" title="Providers and models" wide><${Empty}>No providers configured: add them to providers.json.<//><//>`;
  return html`<${Panel} id="providers" title="Providers and models" wide>
    <div class="scroll"><table class="data">
      <thead><tr><th scope="col">Model</th><th scope="col">Health</th><th scope="col">Failures</th><th scope="col">Cooldown</th><th scope="col">Queue</th><th scope="col">Req/min</th><th scope="col">Last error</th><th scope="col"><span class="sr">Action</span></th></tr></thead>
      ${models.providers.map((p) => {
        const h = state.health.providers[p.id];
        const rows = models.data.filter((m) => m.provider === p.id);
        return html`<tbody>
          <tr class="group" data-provider=${p.id}>
            <th scope="rowgroup" colspan="7"><span class="pid">${p.id}</span> <span class="muted">${p.type}</span> ${p.stopped ? html`<${Badge} value="stopped" />` : html`<${Badge} value=${h?.ready ? 'ready' : p.enabled ? 'problem' : 'disabled'} label=${shortStatus(h?.status ?? p.status)} />`}
              ${p.queue && html` <span class="muted">queue ${queueText(p.queue)}</span>`}</th>
            <td><${StopStart} id=${p.id} stopped=${p.stopped} onChanged=${onChanged} label=${`provider ${p.id}`} /></td>
          </tr>
          ${rows.length === 0 && html`<tr><td colspan="8" class="muted">Models are not listed in providers.json; any model name is passed through.</td></tr>`}
          ${rows.map((m) => {
            const left = remaining(m.cooldown_until, offset);
            const health = m.stopped ? 'stopped' : m.health;
            return html`<tr class=${health === 'cooling' ? 'row-bad' : ''} data-model=${m.id}>
              <td data-label="Model">${m.model}</td>
              <td data-label="Health"><${Badge} value=${health} /></td>
              <td data-label="Failures" class="num">${m.failures}</td>
              <td data-label="Cooldown">${left != null && left > 0 ? html`<span class="cooldown">${fmtSeconds(left)} left</span>` : '–'}</td>
              <td data-label="Queue">${queueText(m.queue)}</td>
              <td data-label="Req/min" class="num">${m.rpm}</td>
              <td data-label="Last error" class="err-text">${m.last_error ?? ''}</td>
              <td><${StopStart} id=${m.id} stopped=${m.stopped} onChanged=${onChanged} /></td>
            </tr>`;
          })}
        </tbody>`;
      })}
    </table></div>
  <//>`;
}
