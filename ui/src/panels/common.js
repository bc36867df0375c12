import { html } from '../html.js';

export function Panel({ id, title, actions, children, wide }) {
  return html`<section id=${id} class=${`card panel${wide ? ' wide' : ''}`} aria-labelledby=${`${id}-title`}>
    <div class="panel-head"><h2 id=${`${id}-title`}>${title}</h2>${actions}</div>
    ${children}
  </section>`;
}

const GOOD = new Set(['healthy', 'ready', 'active', 'running', 'completed', 'ok']);
const WARN = new Set(['rate_limited', 'stopped', 'disabled', 'in_progress', 'validating', 'finalizing', 'cancelling', 'expired']);

export function Badge({ value, label }) {
  const cls = GOOD.has(value) ? 'ok' : WARN.has(value) ? 'warn' : 'bad';
  return html`<span class=${`badge ${cls}`}>${label ?? String(value).replace('_', ' ')}</span>`;
}

export function Empty({ children }) {
  return html`<p class="empty">${children}</p>`;
}
