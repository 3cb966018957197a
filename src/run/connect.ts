import { ApiClient, DEFAULT_RETRY_POLICY, type RetryPolicy, type TokenSource, type WaitListener } from '../api/client.js';
import { fetchStableToken } from '../api/endpoints/stable-token.js';
import { CacheNotSaved, TokenManager, type TokenCache } from '../api/tokens.js';
import { ConfigNotSaved, type ConfigStore } from '../out/config-store.js';
import type { Reporter } from '../console/report.js';
import type { ConnectionPlan, TransportPlan } from '../plan/connection.js';
import type { ComponentConnectionPlan } from '../plan/component.js';
import type { TokenService } from '../plan/credentials.js';
import { TokenCommand } from '../api/token-command.js';
import { ProvidedTokens, type TokenProvider } from '../api/token-sources.js';
import { TokenUrl } from '../api/token-url.js';
import { packageVersion } from '../version.js';

/** What the running command adds: how to stop it, and who is told of waits. */
export interface ConnectionHooks {
  signal?: AbortSignal;
  /** Told of every wait before a retry (a progress bar's note), beside the long-wait line on stderr. */
  onWait?: WaitListener;
  /** A progress bar already shows each wait: no long-wait line on stderr. */
  waitsShown?: boolean;
  /** Calls the command makes at once (details batches); 1 keeps a list walk on one connection. */
  connections?: number;
  /** Requests the run may send (--max-calls): the next is refused with CallBudgetSpent. */
  maxCalls?: number;
}

export interface Connection {
  client: ApiClient;
  tokens: TokenSource;
}

/** Opens the client on a planned connection: the first thing of a run that lasts (a socket, a token). */
export function connect(plan: ConnectionPlan, reporter: Reporter, hooks: ConnectionHooks = {}): Connection {
  announceTransport(plan, reporter);
  const { service } = plan.credentials;
  const tokens: TokenSource =
    service === undefined
      ? new TokenManager({
          credentials: plan.credentials,
          cache: tokenCacheIn(plan.store),
          fetchStableToken: (app) => fetchStableToken(client, app),
          notice: (line) => {
            if (!plan.quiet) reporter.line(line);
          },
          cacheNotice: (line) => {
            if (!plan.quiet && plan.stderrIsTTY) reporter.line(line);
          },
          onSecret: (secret) => reporter.addSecret(secret),
        })
      : new ProvidedTokens(tokenProvider(service, plan, reporter, { retry: retryOf(plan), signal: hooks.signal }), (secret) =>
          reporter.addSecret(secret),
        );
  const client = openClient(plan, tokens, reporter, { ...hooks, throughPlatform: plan.credentials.throughPlatform === true });
  return { client, tokens };
}

/**
 * Opens the client of the third-party platform's calls, its token the component token from the
 * platform's server (a command or a URL), asked again with the same refresh ask when refused.
 */
export function connectComponent(plan: ComponentConnectionPlan, reporter: Reporter, hooks: ConnectionHooks = {}): Connection {
  announceTransport(plan, reporter);
  const provider = tokenProvider(plan.component.service, plan, reporter, { retry: retryOf(plan), signal: hooks.signal });
  const tokens = new ProvidedTokens(provider, (secret) => reporter.addSecret(secret), {
    serves: `the platform's current component access token (of component AppID ${plan.component.appid.value}), and that nothing else forces its refresh`,
  });
  return { client: openClient(plan, tokens, reporter, hooks), tokens };
}

function retryOf(plan: TransportPlan): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, retries: plan.retries, delayScale: plan.delayScale };
}

/** First of all: the proxy's secrets registered, and a proxy that NO_PROXY skips said. */
function announceTransport(plan: TransportPlan, reporter: Reporter): void {
  for (const secret of plan.proxy?.secrets ?? []) reporter.addSecret(secret);
  if (plan.proxySkipped !== undefined && !plan.quiet) {
    reporter.line(`wx-followers: not using the proxy from ${plan.proxySkipped.from}: ${plan.proxySkipped.by} lists ${plan.baseUrl.host}.`);
  }
}

/** The client on a planned transport, with its token source. */
function openClient(
  plan: TransportPlan,
  tokens: TokenSource,
  reporter: Reporter,
  hooks: ConnectionHooks & { throughPlatform?: boolean },
): ApiClient {
  const longWaits = new LongWaitNotice(reporter, plan.delayScale);
  const { onWait, waitsShown, ...clientHooks } = hooks;
  return new ApiClient({
    baseUrl: plan.baseUrl,
    timeoutMs: plan.timeoutMs,
    tokens,
    userAgent: userAgent(),
    retry: retryOf(plan),
    onWait: (reason, waitMs) => {
      onWait?.(reason, waitMs);
      if (!plan.quiet && waitsShown !== true) longWaits.announce(reason, waitMs);
    },
    ...(plan.proxy === undefined ? {} : { proxy: plan.proxy }),
    ...clientHooks,
  });
}

/**
 * The token command or service the plan chose. What the service's proxy, its Authorization and
 * its tokens hold is registered as secret before it is asked anything.
 */
function tokenProvider(
  service: TokenService,
  plan: TransportPlan,
  reporter: Reporter,
  options: { retry: RetryPolicy; signal: AbortSignal | undefined },
): TokenProvider {
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  if (service.kind === 'provided') return service.provider(options.signal);
  if (service.kind === 'command') {
    return new TokenCommand({
      command: service.command,
      from: service.from,
      env: service.env,
      appid: service.appid,
      ...(service.componentAppid === undefined ? {} : { componentAppid: service.componentAppid }),
      timeoutMs: plan.timeoutMs,
      ...signal,
    });
  }
  const { proxy, skipped } = service.proxy;
  for (const secret of proxy?.secrets ?? []) reporter.addSecret(secret);
  if (service.authorization !== undefined) reporter.addSecret(service.authorization);
  if (skipped !== undefined && !plan.quiet) {
    reporter.line(`wx-followers: not using the proxy from ${skipped.from} for the token service: ${skipped.by} lists ${service.url.host}.`);
  }
  return new TokenUrl({
    url: service.url,
    from: service.from,
    authorization: service.authorization,
    ...(service.names === undefined ? {} : { names: service.names }),
    proxy,
    timeoutMs: plan.timeoutMs,
    retry: options.retry,
    userAgent: userAgent(),
    ...signal,
  });
}

function userAgent(): string {
  return `wx-followers/${packageVersion()}`;
}

/** The config store as the token manager's cache: a write it cannot make is no failure of the run. */
function tokenCacheIn(store: ConfigStore): TokenCache {
  const saving = async (change: () => Promise<void>): Promise<void> => {
    try {
      await change();
    } catch (error) {
      if (error instanceof ConfigNotSaved) throw new CacheNotSaved(error.message, { cause: error });
      throw error;
    }
  };
  return {
    read: (owner) => store.cachedToken(owner),
    write: (owner, token) => saving(() => store.cacheToken(owner, token)),
    forget: (appid, accessToken) => saving(() => store.forgetToken(appid, accessToken)),
  };
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

  constructor(reporter: Reporter, scale: number, now: () => number = Date.now) {
    this.#reporter = reporter;
    this.#scale = scale;
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
