/**
 * @module Reads the selector model's answer: the first `<aisbf_model_autoselection>ID` tag, closed or
 * not (the stop sequence usually cuts the closing tag), with the id trimmed to its first line.
 */

const OPEN = '<aisbf_model_autoselection>';

export function parseAutoselectReply(reply: string): string | undefined {
  const at = reply.toLowerCase().indexOf(OPEN);
  if (at < 0) return undefined;
  let rest = reply.slice(at + OPEN.length);
  const close = rest.indexOf('<');
  if (close >= 0) rest = rest.slice(0, close);
  const id = rest.trim().split(/\r?\n/, 1)[0]!.trim();
  return id || undefined;
}
