export const fmtInt = (n) => (n == null ? '–' : Number(n).toLocaleString('en-US'));

export function fmtUsd(n) {
  if (n == null) return '–';
  if (n === 0) return '$0';
  if (Math.abs(n) < 0.000001) return '<$0.000001';
  if (Math.abs(n) < 0.01) return `$${Number(n.toPrecision(2))}`;
  return `$${n.toFixed(2)}`;
}

export function fmtMs(ms) {
  if (ms == null) return '–';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function fmtSeconds(s) {
  if (s == null) return '';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

export function fmtDate(iso) {
  if (!iso) return '–';
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
}
