import { ApiClient } from './api/client.js';
import { fetchStableToken } from './api/stable-token.js';
import { openConfigStore } from './config-store.js';
import { lazyStore, resolveCredentials, resolveSetting, type CredentialOptions } from './credentials.js';
import type { IOStreams } from './io.js';
import { DEFAULT_BASE_URL, DEFAULT_TIMEOUT_MS, parseBaseUrl, parsePositiveInteger } from './options.js';
import type { Reporter } from './report.js';
import { TokenManager } from './tokens.js';
import { packageVersion } from './version.js';

/** The options every command that calls the API takes. */
export interface ConnectionOptions extends CredentialOptions {
  baseUrl?: string;
  timeout?: string;
  quiet?: boolean;
}

export interface Connection {
  client: ApiClient;
  tokens: TokenManager;
}

/** Settles the origin, the timeout and the credentials, and opens the client on them. */
export async function connect(options: ConnectionOptions, io: IOStreams, reporter: Reporter): Promise<Connection> {
  const timeoutMs = parsePositiveInteger('--timeout', options.timeout) ?? DEFAULT_TIMEOUT_MS;
  const store = lazyStore(() => openConfigStore(io.env));
  const baseUrlSetting = await resolveSetting(options.baseUrl, 'WX_API_BASE_URL', 'base-url', io, store);
  const baseUrl = parseBaseUrl(baseUrlSetting?.value ?? DEFAULT_BASE_URL, baseUrlSetting?.origin ?? 'the default');
  const credentials = await resolveCredentials(options, io, store);
  const tokens: TokenManager = new TokenManager({
    credentials,
    store,
    fetchStableToken: (app) => fetchStableToken(client, app),
    notice: (line) => {
      if (options.quiet !== true) reporter.line(line);
    },
    onSecret: (secret) => reporter.addSecret(secret),
  });
  const client = new ApiClient({ baseUrl, timeoutMs, tokens, userAgent: `wx-followers/${packageVersion()}` });
  return { client, tokens };
}
