import { h } from 'preact';
import htm from 'htm';

/** Tagged templates instead of JSX: no compile step of our own, and no eval (htm parses strings). */
export const html = htm.bind(h);
