import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { api } from '../api.js';
import { fmtDate, fmtUsd } from '../format.js';
import { Badge, Empty, Panel } from './common.js';

function limits(k) {
  const parts = [];
  if (k.rpm) parts.push(`${k.rpm} rpm`);
  if (k.tpm) parts.push(`${k.tpm} tpm`);
  if (k.max_parallel) parts.push(`${k.max_parallel} parallel`);
  if (k.models) parts.push(`models: ${k.models.join(', ')}`);
  return parts.join(' · ') || 'none';
}

function Budget({ k }) {
  if (!k.budget_usd) return '–';
  const spent = k.spent_usd ?? 0;
  const pct = Math.min(100, Math.round((100 * spent) / k.budget_usd));
  return html`<span class="budget"><progress max="100" value=${pct} aria-label=${`${pct}% of budget`}></progress> ${fmtUsd(spent)} / ${fmtUsd(k.budget_usd)} a ${k.budget_period}</span>`;
}

function Revoke({ k, onDone }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  if (k.status === 'revoked') return '';
  async function revoke() {
    try {
      await api(`/admin/keys/${encodeURIComponent(k.id)}`, { method: 'DELETE' });
      onDone();
    } catch (err) {
      setError(err.message);
    }
  }
  if (!confirming) return html`<button class="small" onClick=${() => setConfirming(true)} aria-label=${`Revoke key ${k.name}`}>Revoke</button>`;
  return html`<span class="confirm">${error && html`<span class="error">${error}</span>`}
    <button class="small danger" onClick=${revoke} aria-label=${`Confirm revoking key ${k.name}`}>Confirm revoke</button>
    <button class="small ghost" onClick=${() => setConfirming(false)}>Cancel</button></span>`;
}

function CreateKey({ onCreated }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const body = { name: String(f.get('name')).trim() };
    for (const n of ['rpm', 'tpm', 'max_parallel']) if (f.get(n)) body[n] = Number(f.get(n));
    if (f.get('budget_usd')) {
      body.budget_usd = Number(f.get('budget_usd'));
      body.budget_period = String(f.get('budget_period'));
    }
    if (f.get('expires')) body.expires = String(f.get('expires')).trim();
    setBusy(true);
    setError(null);
    try {
      const created = await api('/admin/keys', { method: 'POST', body });
      form.reset();
      onCreated(created);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="inline-form" onSubmit=${submit} aria-label="Create a key">
    <label>Name <input name="name" required maxlength="128" placeholder="ci" /></label>
    <label>RPM <input name="rpm" type="number" min="1" step="1" /></label>
    <label>TPM <input name="tpm" type="number" min="1" step="1" /></label>
    <label>Budget $ <input name="budget_usd" type="number" min="0.01" step="0.01" /></label>
    <label>per <select name="budget_period"><option value="month">month</option><option value="week">week</option><option value="day">day</option></select></label>
    <label>Expires <input name="expires" placeholder="30d" size="6" /></label>
    <button type="submit" disabled=${busy}>Create key</button>
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </form>`;
}

export function KeysPanel({ authEnabled }) {
  const [keys, setKeys] = useState(null);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);
  const [showRevoked, setShowRevoked] = useState(false);
  const load = useCallback(() => api('/admin/keys').then((b) => (setKeys(b.data), setError(null))).catch((e) => setError(e.message)), []);
  useEffect(() => {
    load();
  }, [load]);
  const list = (keys ?? []).filter((k) => showRevoked || k.status !== 'revoked');
  return html`<${Panel} id="keys" title="API keys" wide>
    ${authEnabled === false && html`<p class="note">Auth is off, so keys are not checked: keys made here take effect once <code>auth.enabled</code> is set in aisbf.json.</p>`}
    <${CreateKey} onCreated=${(k) => (setCreated(k), load())} />
    ${created && html`<div class="created" role="status">
      <p>Key <strong>${created.name}</strong> created. Copy it now: it is shown only once.</p>
      <p><code class="secret" data-testid="new-key">${created.key}</code></p>
      <button class="small ghost" onClick=${() => setCreated(null)}>I have copied it</button>
    </div>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${keys && keys.length === 0 && html`<${Empty}>No keys yet.<//>`}
    ${list.length > 0 && html`<div class="scroll"><table class="data">
      <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Status</th><th scope="col">Limits</th><th scope="col">Spend / budget</th><th scope="col">Expires</th><th scope="col">Created</th><th scope="col"><span class="sr">Action</span></th></tr></thead>
      <tbody>${list.map(
        (k) => html`<tr key=${k.id} data-key=${k.name}>
          <td data-label="Name">${k.name}${k.user ? html` <span class="muted">(${k.user})</span>` : ''}</td>
          <td data-label="Key"><code>${k.key_hint}</code></td>
          <td data-label="Status"><${Badge} value=${k.status} /></td>
          <td data-label="Limits">${limits(k)}</td>
          <td data-label="Spend"><${Budget} k=${k} /></td>
          <td data-label="Expires">${fmtDate(k.expires_at)}</td>
          <td data-label="Created">${fmtDate(k.created_at)}</td>
          <td><${Revoke} k=${k} onDone=${load} /></td>
        </tr>`,
      )}</tbody>
    </table></div>`}
    ${keys && keys.some((k) => k.status === 'revoked') && html`<label class="check"><input type="checkbox" checked=${showRevoked} onChange=${() => setShowRevoked(!showRevoked)} /> Show revoked keys</label>`}
  <//>`;
}
