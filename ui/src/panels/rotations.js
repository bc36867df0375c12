import { html } from '../html.js';
import { fmtSeconds } from '../format.js';
import { Badge, Empty, Panel } from './common.js';

function Target({ t }) {
  const detail = t.kind === 'rotation' ? `${t.ready_members}/${t.members} members ready` : t.cooldown_remaining_seconds ? `${fmtSeconds(t.cooldown_remaining_seconds)} left` : '';
  return html`<span class="target"><code>${t.target}</code> <${Badge} value=${t.state} /> ${detail && html`<span class="muted">${detail}</span>`}</span>`;
}

export function RotationsPanel({ state }) {
  if (!state) return html`<${Panel} id="rotations" title="Rotations and autoselect"><p class="muted">Loading…</p><//>`;
  const { rotations, autoselect } = state;
  return html`<${Panel} id="rotations" title="Rotations and autoselect">
    ${rotations.length === 0 && html`<${Empty}>No rotations configured (rotations.json).<//>`}
    ${rotations.map((r) => {
      const total = r.members.reduce((s, m) => s + m.weight, 0) || 1;
      return html`<div class="rotation" data-rotation=${r.id}>
        <h3><code>${r.id}</code> <span class="muted">${r.strategy}</span></h3>
        <ul class="members">
          ${r.members.map(
            (m) => html`<li>
              <span class="weight" title=${`weight ${m.weight}`}><span style=${`width:${Math.round((100 * m.weight) / total)}%`}></span></span>
              <code>${m.provider}/${m.model}</code> <span class="muted">w ${m.weight}</span> <${Badge} value=${m.state} />
              ${m.cooldown_remaining_seconds ? html` <span class="cooldown">${fmtSeconds(m.cooldown_remaining_seconds)} left</span>` : ''}
              ${m.failures > 0 ? html` <span class="muted">${m.failures} failures</span>` : ''}
            </li>`,
          )}
        </ul>
      </div>`;
    })}
    <h3 class="sub">Autoselect</h3>
    ${autoselect.length === 0 && html`<${Empty}>No autoselect models configured (autoselect.json).<//>`}
    ${autoselect.map(
      (a) => html`<div class="rotation" data-autoselect=${a.id}>
        <h3><code>${a.id}</code> <span class="muted">${a.selector} selector</span></h3>
        <p class="kv">Selector: <${Target} t=${a.selection_model} /></p>
        <p class="kv">Fallback: <${Target} t=${a.fallback} /></p>
        <ul class="members">${a.models.map((m) => html`<li><${Target} t=${m} /></li>`)}</ul>
      </div>`,
    )}
  <//>`;
}
