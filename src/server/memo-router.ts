/**
 * @module Hono's router with its answers remembered per method and path. Our route table cannot use
 * hono's RegExpRouter (a param beside a static segment at the same place, e.g. `/api/:id/models` beside
 * `/api/requests/:id`, and the glasses' `/:slug{auth-.+}`), so the TrieRouter serves, and a match walks
 * the trie and collects every middleware and handler on the way: ~6 µs per request under load in a CPU
 * profile (0.6 µs in a hot loop). A client sends the same few paths over and over, so each distinct one
 * is matched once. The memo is bounded (paths are client input): past MEMO_MAX it starts over.
 *
 * Hono reads a match's handlers and params and never changes them, so one result serves every request
 * with that method and path. Routes are all added at start; an `add` clears the memo anyway.
 */
import type { Result, Router } from 'hono/router';
import { TrieRouter } from 'hono/router/trie-router';

export const MEMO_MAX = 512;

export class MemoRouter<T> implements Router<T> {
  readonly name = 'MemoRouter(TrieRouter)';
  private readonly trie = new TrieRouter<T>();
  private readonly memo = new Map<string, Result<T>>();

  add(method: string, path: string, handler: T): void {
    this.memo.clear();
    this.trie.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    // A path always starts with '/', so method + path is unambiguous.
    const key = method + path;
    let r = this.memo.get(key);
    if (r === undefined) {
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      r = this.trie.match(method, path);
      this.memo.set(key, r);
    }
    return r;
  }

  /** Paths remembered (tests). */
  get size(): number {
    return this.memo.size;
  }
}
