/**
 * @module Renders a verbose transcription as SubRip (srt) or WebVTT, one cue per segment. Without
 * segments (an upstream that only answers json) the whole text is one cue over the audio's duration,
 * taken from the result, else from a duration-type usage, else estimated at 15 characters a second.
 */
import type { TranscriptionResult } from '../providers/provider-adapter.js';

type Cue = { start: number; end: number; text: string };

function cues(t: TranscriptionResult): Cue[] {
  if (t.segments?.length) return t.segments.map((s) => ({ start: s.start, end: s.end, text: s.text.trim() }));
  const text = t.text.trim();
  return text ? [{ start: 0, end: durationOf(t) ?? Math.max(1, Math.round((text.length / 15) * 10) / 10), text }] : [];
}

function durationOf(t: TranscriptionResult): number | undefined {
  if (typeof t.duration === 'number' && t.duration > 0) return t.duration;
  const usage = t.usage as { type?: string; seconds?: number } | undefined;
  return usage?.type === 'duration' && typeof usage.seconds === 'number' && usage.seconds > 0 ? usage.seconds : undefined;
}

function clock(seconds: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

export function toSrt(t: TranscriptionResult): string {
  return cues(t)
    .map((c, i) => `${i + 1}\n${clock(c.start, ',')} --> ${clock(c.end, ',')}\n${c.text}\n\n`)
    .join('');
}

export function toVtt(t: TranscriptionResult): string {
  return `WEBVTT\n\n${cues(t)
    .map((c) => `${clock(c.start, '.')} --> ${clock(c.end, '.')}\n${c.text}\n\n`)
    .join('')}`;
}
