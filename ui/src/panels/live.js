import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { liveFeed } from '../api.js';
import { fmtInt, fmtMs, fmtTime, fmtUsd } from '../format.js';
import { Empty, Panel } from './common.js';

/** Rows kept on the page; older ones fall off. */
const MAX_ROWS = 100;
const RENDER_MS = 500;

function mark(e) {
  if (e.cache_hit) return html`<span class="mark cache" title="answered from the cache">cache</span>`;
  if (e.failovers > 0 && e.status < 400) return html`<span class="mark failover" title=${`${e.failovers} candidate(s) failed first`}>failover ×${e.failovers}</span>`;
  return '';
}

export function LivePanel() {
  const [rows, setRows] = useState([]);
  const [paused, setPaused] = useState(false);
  const [missed, setMissed] = useState(0);
  const [dropped, setDropped] = useState(0);
  const [status, setStatus] = useState('connecting');
  const pausedRef = useRef(false);
  pausedRef.current = paused;

  // Events arrive in bursts under load: they are gathered here and drawn at most every RENDER_MS,
  // so a busy gateway costs the tab a few renders a second, not one per request.
  useEffect(() => {
    let pending = [];
    let missedNow = 0;
    const draw = setInterval(() => {
      if (missedNow) {
        const n = missedNow;
        missedNow = 0;
        setMissed((m) => m + n);
      }
      if (!pending.length) return;
      const batch = pending.reverse();
      pending = [];
      dispatchEvent(new Event('aisbf:settled'));
      if (!document.hidden) setRows((r) => batch.concat(r).slice(0, MAX_ROWS));
    }, RENDER_MS);
    const stop = liveFeed(
      (type, data) => {
        if (type === 'dropped') setDropped((d) => d + data.dropped);
        if (type !== 'message') return;
        if (pausedRef.current) missedNow++;
        else {
          pending.push(data);
          if (pending.length > MAX_ROWS) pending = pending.slice(-MAX_ROWS);
        }
      },
      setStatus,
    );
    return () => {
      clearInterval(draw);
      stop();
    };
  }, []);

  const toggle = () => {
    if (paused) setMissed(0);
    setPaused(!paused);
  };
  const actions = html`<div class="actions">
    <span class=${`dot ${status === 'open' ? 'on' : ''}`} title=${status}></span><span class="muted small-text">${status === 'open' ? 'live' : status}</span>
    ${dropped > 0 && html`<span class="muted small-text">${dropped} dropped</span>`}
    <button class="small" aria-pressed=${paused} onClick=${toggle}>${paused ? `Resume${missed ? ` (${missed} new)` : ''}` : 'Pause'}</button>
  </div>`;
  return html`<${Panel} id="live" title="Live requests" actions=${actions} wide>
    ${rows.length === 0
      ? html`<${Empty}>No requests yet: they appear here as they finish.<//>`
      : html`<div class="scroll"><table class="data live">
          <thead><tr><th scope="col">Time</th><th scope="col">Client</th><th scope="col">Target</th><th scope="col">Served by</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col"><span class="sr">Mark</span></th></tr></thead>
          <tbody>
            ${rows.map(
              (e) => html`<tr key=${e.request_id} class=${e.status >= 400 ? 'row-bad' : ''}>
                <td data-label="Time">${fmtTime(e.time)}</td>
                <td data-label="Client">${e.key_id ?? e.user ?? e.client_id}</td>
                <td data-label="Target"><code>${e.target ?? e.route}</code></td>
                <td data-label="Served by">${e.provider ? html`<code>${e.provider}/${e.model}</code>` : '–'}</td>
                <td data-label="Status" class=${e.status >= 400 ? 'err-text' : ''}>${e.status}${e.error_code ? ` ${e.error_code}` : ''}</td>
                <td data-label="Latency" class="num">${fmtMs(e.latency_ms)}</td>
                <td data-label="Tokens" class="num">${fmtInt(e.prompt_tokens + e.completion_tokens)}</td>
                <td data-label="Cost" class="num">${fmtUsd(e.cost_usd)}</td>
                <td>${mark(e)}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}
  <//>`;
}
