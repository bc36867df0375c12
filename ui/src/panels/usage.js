import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';
import { api } from '../api.js';
import { fmtInt, fmtUsd } from '../format.js';
import { Empty, Panel } from './common.js';

const PALETTE = ['#2563eb', '#16a34a', '#db2777', '#ea580c', '#7c3aed', '#0891b2', '#78716c'];
const METRICS = { requests: 'Requests', tokens: 'Tokens', cost_usd: 'Cost (USD)' };
const REFRESH_MS = 60_000;
const ACTIVITY_MS = 5_000;

function Seg({ name, value, options, onChange }) {
  return html`<div class="seg" role="radiogroup" aria-label=${name}>
    ${Object.entries(options).map(
      ([k, label]) => html`<label class=${value === k ? 'on' : ''}><input type="radio" name=${name} value=${k} checked=${value === k} onChange=${() => onChange(k)} />${label}</label>`,
    )}
  </div>`;
}

/** Bumps when the system switches light/dark, so the chart redraws in the new colours. */
function useScheme() {
  const [dark, setDark] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const mq = matchMedia('(prefers-color-scheme: dark)');
    const on = () => setDark(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return dark;
}

function Chart({ data, metric }) {
  const box = useRef(null);
  const dark = useScheme();
  useEffect(() => {
    const el = box.current;
    if (!el || !data) return;
    const css = getComputedStyle(document.documentElement);
    const fg = css.getPropertyValue('--muted').trim() || '#888';
    const grid = css.getPropertyValue('--line').trim() || '#8884';
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts = {
      width: Math.max(260, el.clientWidth),
      height: 240,
      series: [{}, ...data.series.map((s, i) => ({ label: s.group || '(none)', stroke: PALETTE[i % PALETTE.length], width: 2, points: { size: 4 }, value: (_u, v) => (v == null ? '–' : metric === 'cost_usd' ? fmtUsd(v) : fmtInt(v)) }))],
      axes: [axis, { ...axis, size: 60, values: (_u, ticks) => ticks.map((v) => (metric === 'cost_usd' ? fmtUsd(v) : fmtInt(v))) }],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
    const plot = new uPlot(opts, [data.buckets, ...data.series.map((s) => s[metric])], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(260, el.clientWidth), height: 240 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data, metric, dark]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${`${METRICS[metric]} over time by ${data?.group_by}`}></div>`;
}

export function UsagePanel() {
  const [range, setRange] = useState('24h');
  const [group, setGroup] = useState('model');
  const [metric, setMetric] = useState('requests');
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let live = true;
    const load = () =>
      api(`/admin/usage/series?range=${range}&group_by=${group}`)
        .then((d) => live && (setData(d), setError(null)))
        .catch((e) => live && setError(e.code === 'accounting_unavailable' ? 'Usage is not recorded: accounting is off in this server.' : e.message));
    load();
    const t = setInterval(() => !document.hidden && load(), REFRESH_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [range, group, tick]);

  // New requests (the live feed tells) refresh the chart, at most every few seconds.
  useEffect(() => {
    let last = 0;
    let timer;
    const on = () => {
      if (timer) return;
      const wait = Math.max(0, last + ACTIVITY_MS - Date.now());
      timer = setTimeout(() => {
        timer = undefined;
        last = Date.now();
        setTick((t) => t + 1);
      }, wait);
    };
    addEventListener('aisbf:settled', on);
    return () => {
      removeEventListener('aisbf:settled', on);
      clearTimeout(timer);
    };
  }, []);

  const totals = data?.series.map((s) => ({ group: s.group, requests: s.requests.reduce((a, b) => a + b, 0), errors: s.errors.reduce((a, b) => a + b, 0), tokens: s.tokens.reduce((a, b) => a + b, 0), cost: s.cost_usd.reduce((a, b) => a + b, 0) }));
  const actions = html`<button class="small ghost" onClick=${() => setTick((t) => t + 1)}>Refresh</button>`;
  return html`<${Panel} id="usage" title="Usage" actions=${actions} wide>
    <div class="controls">
      <${Seg} name="Range" value=${range} options=${{ '24h': '24 h', '7d': '7 days', '30d': '30 days' }} onChange=${setRange} />
      <${Seg} name="Group by" value=${group} options=${{ model: 'Model', key: 'Key', client: 'Client' }} onChange=${setGroup} />
      <${Seg} name="Metric" value=${metric} options=${METRICS} onChange=${setMetric} />
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${data && data.series.length === 0 && html`<${Empty}>No requests in this range yet.<//>`}
    ${data && data.series.length > 0 && html`<${Chart} data=${data} metric=${metric} />
      <div class="scroll"><table class="data compact">
        <thead><tr><th scope="col">${group}</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Tokens</th><th scope="col" class="num">Cost</th></tr></thead>
        <tbody>${totals.map((t) => html`<tr><td data-label=${group}><code>${t.group || '(none)'}</code></td><td data-label="Requests" class="num">${fmtInt(t.requests)}</td><td data-label="Errors" class="num">${fmtInt(t.errors)}</td><td data-label="Tokens" class="num">${fmtInt(t.tokens)}</td><td data-label="Cost" class="num">${fmtUsd(t.cost)}</td></tr>`)}</tbody>
      </table></div>`}
  <//>`;
}
