/**
 * @module The one "fake upstream + aisbf + client" fixture: `useGateway` registers beforeAll/afterAll
 * that start the fake upstream(s), a real aisbf configured to reach them, and an openai SDK client on
 * aisbf, and stop everything afterwards (aisbf first, then the fakes). Call it at describe level (or
 * file level); read the fields inside tests.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { startAisbf, type StartAisbfOptions, type TestConfig, type TestServer } from './aisbf-server.js';

interface Closable {
  close(): Promise<void> | void;
}

/** One fake, or a record of fakes by name. */
export type Fakes = Closable | Record<string, Closable>;

export interface GatewayOptions<F extends Fakes> {
  /** Starts the fake upstream(s). */
  fake: () => Promise<F>;
  /** The aisbf config, given the started fake(s). */
  config: (fake: F) => TestConfig;
  /** Base path of `client` on aisbf, e.g. '/api/anthropic'. Default '/v1'. */
  base?: string;
  /** The client's bearer token. Default 'client-key'. */
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
  options?: StartAisbfOptions;
}

export interface Gateway<F extends Fakes> {
  readonly aisbf: TestServer;
  readonly fake: F;
  /** The openai SDK on `base` (no retries). */
  readonly client: OpenAI;
  /** aisbf's origin, http://127.0.0.1:PORT. */
  readonly url: string;
  /** Another openai client on aisbf, e.g. on '/api/badkey'. */
  sdk(base: string, apiKey?: string): OpenAI;
}

function closeFakes(f: Fakes | undefined): Promise<unknown> {
  if (!f) return Promise.resolve();
  if (typeof (f as Closable).close === 'function') return Promise.resolve((f as Closable).close());
  return Promise.all(Object.values(f as Record<string, Closable>).map((x) => x?.close()));
}

export function useGateway<F extends Fakes>(opts: GatewayOptions<F>): Gateway<F> {
  let fake: F | undefined;
  let aisbf: TestServer | undefined;
  let client: OpenAI | undefined;
  const ready = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`useGateway: ${what} read before beforeAll ran (or it failed)`);
    return v;
  };
  const sdk = (base: string, apiKey = opts.apiKey ?? 'client-key') => new OpenAI({ baseURL: `${ready(aisbf, 'aisbf').url}${base}`, apiKey, maxRetries: 0 });

  beforeAll(async () => {
    fake = await opts.fake();
    aisbf = await startAisbf(opts.config(fake), opts.env, opts.options);
    client = sdk(opts.base ?? '/v1');
  });
  afterAll(async () => {
    await aisbf?.close();
    await closeFakes(fake);
  });

  return {
    get aisbf() {
      return ready(aisbf, 'aisbf');
    },
    get fake() {
      return ready(fake, 'fake');
    },
    get client() {
      return ready(client, 'client');
    },
    get url() {
      return ready(aisbf, 'aisbf').url;
    },
    sdk,
  };
}
