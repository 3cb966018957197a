import { chooseProxy, type ForwardProxy, type ProxyChoice, type ProxyFlag } from '../api/proxy.js';
import type { IOStreams } from '../console/streams.js';
import { openConfigStore, type ConfigStore, type StoredSettings } from '../out/config-store.js';
import { resolveCredentials, resolveSetting, type CredentialOptions, type Credentials } from './credentials.js';
import { selectedProfile, type ProfileFlags } from './profiles.js';
import {
  DEFAULT_BASE_URL,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  parseBaseUrl,
  parseCount,
  parsePositiveInteger,
} from './options.js';

/**
 * A wait is at most 30 s (a 45011 one up to a minute), so 100 retries already hold one request for
 * close to an hour: a failure that outlasts them is not passing, and a thousand would leave a cron
 * run hanging for a day where a rerun with --resume or --state does better.
 */
const MAX_RETRIES = 100;

/** Where and how the API is called, whoever's token the calls carry. */
export interface TransportFlags extends ProfileFlags {
  baseUrl?: string;
  timeout?: string;
  retries?: string;
  /** A URL; '' or false (--no-proxy) for none this run. */
  proxy?: ProxyFlag;
  quiet?: boolean;
}

/** The flags every command that calls the API with an account's token takes. */
export interface ConnectionFlags extends CredentialOptions, TransportFlags {}

/** Where and how the API is called: settled before any request. */
export interface TransportPlan {
  baseUrl: URL;
  timeoutMs: number;
  retries: number;
  /** Multiplies every wait: 1 for real use; the test suite shrinks it (WX_FOLLOWERS_DELAY_SCALE). */
  delayScale: number;
  proxy: ForwardProxy | undefined;
  /** A proxy set by flag or config that NO_PROXY turned off for this origin: said once, unless quiet. */
  proxySkipped: { from: string; by: string } | undefined;
  /** The profile whose settings the config gave (--profile, WX_PROFILE, default-profile); undefined: the top level's. */
  profile: string | undefined;
  /** The config store as read once before any call; the token cache writes through it. */
  store: ConfigStore;
  quiet: boolean;
  /** Whether stderr is a terminal: the one place a token that cannot be cached is worth a word. */
  stderrIsTTY: boolean;
}

/** Where and how the API is called, and with which credentials: settled before any request. */
export interface ConnectionPlan extends TransportPlan {
  credentials: Credentials;
}

/** A transport plan, and what the credentials of any kind are read with. */
export interface PlannedTransport {
  transport: TransportPlan;
  /** The selected section of the config. */
  store: () => Promise<StoredSettings>;
  /** A token service is reached as the API is: the same proxy settings, NO_PROXY for its own host. */
  proxyFor: (url: URL) => Promise<ProxyChoice>;
}

/** Checks every connection flag, the environment and the config store, and settles them; requests nothing. */
export async function planConnection(flags: ConnectionFlags, io: IOStreams, storeRead?: ConfigStore): Promise<ConnectionPlan> {
  const { transport, store, proxyFor } = await planTransport(flags, io, storeRead);
  const credentials = await resolveCredentials(flags, io, store, proxyFor);
  return { ...transport, credentials };
}

/** Base URL, timeout, retries and proxy, from flags, env and the config store read once; requests nothing. */
export async function planTransport(flags: TransportFlags, io: IOStreams, storeRead?: ConfigStore): Promise<PlannedTransport> {
  const timeoutMs = parsePositiveInteger('--timeout', flags.timeout, MAX_TIMEOUT_MS) ?? DEFAULT_TIMEOUT_MS;
  const retries = parseCount('--retries', flags.retries, MAX_RETRIES) ?? DEFAULT_RETRIES;
  // Read once, before any call: a config file that cannot be read, or is broken, stops the run
  // before it spends quota (with a token given, it would otherwise be read only once refused).
  const opened = storeRead ?? (await openConfigStore(io.env));
  const profile = selectedProfile(flags, io.env, opened);
  const settings = opened.settings(profile);
  const store = async (): Promise<StoredSettings> => settings;
  const baseUrlSetting = await resolveSetting(flags.baseUrl, 'WX_API_BASE_URL', 'base-url', io, store);
  const baseUrl = parseBaseUrl(baseUrlSetting?.value ?? DEFAULT_BASE_URL, baseUrlSetting?.origin ?? 'the default');
  const { proxy, skipped } = await chooseProxy(flags.proxy, async () => settings.get('proxy'), io.env, baseUrl);
  const proxyFor = (url: URL): Promise<ProxyChoice> => chooseProxy(flags.proxy, async () => settings.get('proxy'), io.env, url);
  const transport: TransportPlan = {
    baseUrl,
    timeoutMs,
    retries,
    delayScale: delayScale(io.env),
    proxy,
    proxySkipped: skipped,
    profile,
    store: opened,
    quiet: flags.quiet === true,
    stderrIsTTY: io.stderrIsTTY,
  };
  return { transport, store, proxyFor };
}

/**
 * WX_FOLLOWERS_DELAY_SCALE shrinks every wait (backoff, Retry-After, the next minute) for the
 * test suite, so that a chaos run takes seconds; unset, waits are real.
 */
function delayScale(env: NodeJS.ProcessEnv): number {
  const value = Number(env['WX_FOLLOWERS_DELAY_SCALE']);
  return Number.isFinite(value) && value >= 0 && env['WX_FOLLOWERS_DELAY_SCALE'] !== '' ? value : 1;
}
