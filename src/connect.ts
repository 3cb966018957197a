import { ApiClient, DEFAULT_RETRY_POLICY, MAX_TIMER_MS, type WaitListener } from './api/client.js';
import { fetchStableToken } from './api/stable-token.js';
import { openConfigStore, type ConfigStore } from './config-store.js';
import { resolveCredentials, resolveSetting, type AccountId, type CredentialOptions } from './credentials.js';
import type { IOStreams } from './io.js';
import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, parseBaseUrl, parseCount, parsePositiveInteger } from './options.js';
import { chooseProxy, type ProxyFlag } from './proxy.js';
import type { Reporter } from './report.js';
import { TokenManager } from './tokens.js';
import { packageVersion } from './version.js';

/**
 * A wait is at most 30 s (a 45011 one up to a minute), so 100 retries already hold one request for
 * close to an hour: a failure that outlasts them is not passing, and a thousand would leave a cron
 * run hanging for a day where a rerun with --resume or --state does better.
 */
export const MAX_RETRIES = 100;

/** The options every command that calls the API takes. */
export interface ConnectionOptions extends CredentialOptions {
  baseUrl?: string;
  timeout?: string;
  retries?: string;
  /** A URL; '' or false (--no-proxy) for none this run. */
  proxy?: ProxyFlag;
  quiet?: boolean;
}

/** What the running command adds: how to stop it, and who is told of waits. */
export interface ConnectionHooks {
  signal?: AbortSignal;
  /** Told of every wait before a retry (a progress bar's note), beside the long-wait line on stderr. */
  onWait?: WaitListener;
  /** A progress bar already shows each wait: no long-wait line on stderr. */
  waitsShown?: boolean;
  /** Calls the command makes at once (details batches); 1 keeps a list walk on one connection. */
  connections?: number;
}

export interface Connection {
  client: ApiClient;
  tokens: TokenManager;
  /** Which account the run is for, told before any call (for a --state file). */
  account(): Promise<AccountId>;
}

/** Settles the origin, the timeout and the credentials, and opens the client on them. */
export async function connect(
  options: ConnectionOptions,
  io: IOStreams,
  reporter: Reporter,
  hooks: ConnectionHooks = {},
): Promise<Connection> {
  // A timer holds at most 2^31-1 ms (24.8 days); Node fires a longer one at once, with a warning.
  const timeoutMs = parsePositiveInteger('--timeout', options.timeout, MAX_TIMER_MS) ?? DEFAULT_TIMEOUT_MS;
  const retries = parseCount('--retries', options.retries, MAX_RETRIES) ?? DEFAULT_RETRY_POLICY.retries;
  // Read before any call: a config file that cannot be read, or is broken, stops the run before
  // it spends quota (with a token given, the store would otherwise be read only once it is refused).
  const opened = await openConfigStore(io.env);
  const store = async (): Promise<ConfigStore> => opened;
  const baseUrlSetting = await resolveSetting(options.baseUrl, 'WX_API_BASE_URL', 'base-url', io, store);
  const baseUrl = parseBaseUrl(baseUrlSetting?.value ?? DEFAULT_BASE_URL, baseUrlSetting?.origin ?? 'the default');
  const { proxy, skipped } = await chooseProxy(options.proxy, async () => opened.get('proxy'), io.env, baseUrl);
  for (const secret of proxy?.secrets ?? []) reporter.addSecret(secret);
  if (skipped !== undefined && options.quiet !== true) {
    reporter.line(`wx-followers: not using the proxy from ${skipped.from}: ${skipped.by} lists ${baseUrl.host}.`);
  }
  const credentials = await resolveCredentials(options, io, store);
  const tokens: TokenManager = new TokenManager({
    credentials,
    store,
    fetchStableToken: (app) => fetchStableToken(client, app),
    notice: (line) => {
      if (options.quiet !== true) reporter.line(line);
    },
    cacheNotice: (line) => {
      if (options.quiet !== true && io.stderrIsTTY) reporter.line(line);
    },
    onSecret: (secret) => reporter.addSecret(secret),
  });
  const longWaits = new LongWaitNotice(reporter, io.env);
  const { onWait, waitsShown, ...clientHooks } = hooks;
  const client = new ApiClient({
    baseUrl,
    timeoutMs,
    tokens,
    userAgent: `wx-followers/${packageVersion()}`,
    retry: { ...DEFAULT_RETRY_POLICY, retries, delayScale: delayScale(io.env) },
    onWait: (reason, waitMs) => {
      onWait?.(reason, waitMs);
      if (options.quiet !== true && waitsShown !== true) longWaits.announce(reason, waitMs);
    },
    ...(proxy === undefined ? {} : { proxy }),
    ...clientHooks,
  });
  return { client, tokens, account: credentials.account };
}

/**
 * WX_FOLLOWERS_DELAY_SCALE shrinks every wait (backoff, Retry-After, the next minute) for the
 * test suite, so that a chaos run takes seconds; unset, waits are real.
 */
function delayScale(env: NodeJS.ProcessEnv): number {
  const value = Number(env['WX_FOLLOWERS_DELAY_SCALE']);
  return Number.isFinite(value) && value >= 0 && env['WX_FOLLOWERS_DELAY_SCALE'] !== '' ? value : 1;
}

/**
 * A wait longer than this is told on stderr, once, even without a progress display: a cron run
 * would seem hung. Backoff waits (at most 30 s) and the wait for the next minute (45011) stay
 * quiet; a Retry-After of minutes does not.
 */
const LONG_WAIT_MS = 60_000;

/**
 * Tells long waits on stderr, once for waits that overlap: the calls in flight under --with-info
 * meet the same Retry-After together, and each would announce it. It remembers until when the
 * last wait it told runs; a wait that starts before then is told only if it ends much later.
 */
class LongWaitNotice {
  readonly #reporter: Reporter;
  readonly #scale: number;
  readonly #now: () => number;
  #toldUntil = Number.NEGATIVE_INFINITY;

  constructor(reporter: Reporter, env: NodeJS.ProcessEnv, now: () => number = Date.now) {
    this.#reporter = reporter;
    this.#scale = delayScale(env);
    this.#now = now;
  }

  announce(reason: string, waitMs: number): void {
    if (waitMs <= LONG_WAIT_MS) return;
    // The waits really last waitMs * scale: the times compared are those of the clock.
    const now = this.#now();
    const until = now + waitMs * this.#scale;
    if (now < this.#toldUntil && until <= this.#toldUntil + LONG_WAIT_MS * this.#scale) return;
    this.#toldUntil = until;
    const seconds = Math.round(waitMs / 1000);
    const length = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
    this.#reporter.line(`wx-followers: ${reason}: waiting ${length} before trying again.`);
  }
}
