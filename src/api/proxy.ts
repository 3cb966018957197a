import { BlockList, isIP } from 'node:net';
import { usageError } from '../errors.js';

/** A forward proxy the calls go through, as settled for one run. */
export interface ForwardProxy {
  /** The proxy's URL without its user and password: what undici is given. */
  url: URL;
  /** Host and port: the only way a message names the proxy (its URL may carry a password). */
  label: string;
  /** `Basic ...` when the URL carried a user, for the CONNECT's Proxy-Authorization. */
  authorization: string | undefined;
  /** The password as written, as decoded, and the encoded credentials: blanked out of every message. */
  secrets: string[];
  /** Where the setting came from: '--proxy', 'config key proxy', 'HTTPS_PROXY'. */
  from: string;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * `http://[user:pass@]host[:port]` or `https://...` (TLS to the proxy itself); without a scheme,
 * http:// as curl assumes. The value is never quoted back: it may hold the proxy's password.
 */
export function parseProxyUrl(value: string, from: string): ForwardProxy {
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw usageError(
      `The proxy from ${from} uses ${scheme}://: only http:// and https:// proxies are supported (e.g. http://proxy.example:3128).`,
    );
  }
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `http://${value}` : value);
  } catch {
    throw usageError(`The proxy from ${from} is not a URL; give it as http://[user:password@]host:port.`);
  }
  if (url.hostname === '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw usageError(`The proxy from ${from} must be http://[user:password@]host:port, with no path or query (proxy ${labelOf(url)}).`);
  }
  const secrets: string[] = [];
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decode(url.username);
    const password = decode(url.password);
    const credentials = Buffer.from(`${user}:${password}`).toString('base64');
    authorization = `Basic ${credentials}`;
    secrets.push(credentials);
    if (password !== '') secrets.push(password, url.password);
  }
  const bare = new URL(`${url.protocol}//${url.host}`);
  return { url: bare, label: labelOf(url), authorization, secrets, from };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** `host:port`, the default port spelled out: how messages name a proxy or a tunnel's target. */
export function labelOf(url: URL): string {
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return `${url.hostname}:${port}`;
}

/** What the flags say: a URL, '' or false (--no-proxy) for none this run, undefined for the other sources. */
export type ProxyFlag = string | boolean | undefined;

export interface ProxyChoice {
  proxy: ForwardProxy | undefined;
  /** A proxy that was set by flag or config but that NO_PROXY turned off for this origin. */
  skipped?: { from: string; by: string };
}

/**
 * --proxy, else the config key, else the environment (HTTPS_PROXY for https origins, HTTP_PROXY
 * for http ones; lower case first, as curl reads them); then NO_PROXY, which, as in curl, turns
 * off any of them for the hosts it lists.
 */
export async function chooseProxy(
  flag: ProxyFlag,
  configValue: () => Promise<string | undefined>,
  env: NodeJS.ProcessEnv,
  origin: URL,
): Promise<ProxyChoice> {
  // Trimmed as every setting is (a value pasted with a space, read from a file with its line break).
  const given = typeof flag === 'string' ? flag.trim() : flag;
  if (given === false || given === '') return { proxy: undefined };
  let setting: { value: string; from: string } | undefined;
  if (typeof given === 'string') {
    setting = { value: given, from: '--proxy' };
  } else {
    const stored = await configValue();
    if (stored !== undefined) setting = { value: stored, from: 'config key proxy' };
    else setting = fromEnv(env, origin.protocol === 'https:' ? ['https_proxy', 'HTTPS_PROXY'] : ['http_proxy', 'HTTP_PROXY']);
  }
  if (setting === undefined) return { proxy: undefined };
  const noProxy = fromEnv(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy !== undefined && noProxyMatches(noProxy.value, origin)) {
    // The environment's own pair needs no word; a proxy the user set for this tool does.
    const explicit = setting.from === '--proxy' || setting.from === 'config key proxy';
    return explicit ? { proxy: undefined, skipped: { from: setting.from, by: noProxy.from } } : { proxy: undefined };
  }
  const proxy = parseProxyUrl(setting.value, setting.from);
  // Over plain http the access token is in the request line the proxy reads: only a proxy on
  // this machine, or one reached over TLS, may see it.
  if (origin.protocol === 'http:' && proxy.url.protocol === 'http:' && !isLoopback(proxy.url.hostname)) {
    throw usageError(
      `The proxy from ${proxy.from} (${proxy.label}) would see the access token in clear text on the way to ${origin.origin}. ` +
        'Use --no-proxy (or list the host in NO_PROXY) for a local API.',
    );
  }
  return { proxy };
}

function fromEnv(env: NodeJS.ProcessEnv, names: readonly string[]): { value: string; from: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { value, from: name };
  }
  return undefined;
}

/**
 * NO_PROXY as curl reads it: comma- (or space-) separated entries, each `*` (every host), a host
 * name that also covers its subdomains (a leading `.` or `*.` changes nothing), an IP address or
 * CIDR range, any of them with `:port` to match that port only.
 */
export function noProxyMatches(noProxy: string, origin: URL): boolean {
  const host = origin.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  const port = Number(origin.port || (origin.protocol === 'https:' ? 443 : 80));
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = splitPort(raw.trim().toLowerCase());
    if (entry === undefined || entry.host === '') continue;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (entry.host === '*') return true;
    if (isIP(host) !== 0) {
      if (ipMatches(entry.host, host)) return true;
      continue;
    }
    const name = entry.host.replace(/^\*?\./, '').replace(/\.$/, '');
    if (name !== '' && (host === name || host.endsWith(`.${name}`))) return true;
  }
  return false;
}

function splitPort(entry: string): { host: string; port: number | undefined } | undefined {
  if (entry === '') return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed?.[1] !== undefined) return { host: bracketed[1], port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  // A bare IPv6 address (with or without a prefix length) has colons of its own and no port.
  if ((entry.match(/:/g) ?? []).length > 1) return { host: entry, port: undefined };
  const withPort = /^(.*):(\d+)$/.exec(entry);
  if (withPort?.[1] !== undefined && withPort[2] !== undefined) return { host: withPort[1], port: Number(withPort[2]) };
  return { host: entry, port: undefined };
}

function ipMatches(entry: string, ip: string): boolean {
  const [address = '', prefix] = entry.split('/');
  const entryFamily = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (isIP(address) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix))) return false;
  try {
    const list = new BlockList();
    if (prefix === undefined) list.addAddress(address, entryFamily);
    else list.addSubnet(address, Number(prefix), entryFamily);
    return list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4');
  } catch {
    // A prefix longer than the address (10.0.0.0/40): an entry that matches nothing.
    return false;
  }
}

/** A stored proxy URL as `config get/list` shows it: the password never, not even in part. */
export function maskProxyUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(SCHEME.test(value) ? value : `http://${value}`);
  } catch {
    return '(not a proxy URL; `config get proxy --reveal` shows it)';
  }
  // Whatever stands before an '@' may be a password, typed as it came (`http//user:pw@host`, a
  // second '@' for the ':'): only a URL that reads as user:password@host keeps its user in view.
  const at = value.lastIndexOf('@');
  if (at === -1) return value;
  const wellFormed = SCHEME.test(value) && url.password !== '' && !url.username.includes('%40');
  if (wellFormed) return `${url.protocol}//${url.username}:***@${url.host}`;
  const scheme = SCHEME.exec(value)?.[0] ?? '';
  return `${scheme}***@${value.slice(at + 1)}`;
}

/** Loopback addresses: where plain http may carry a token, and a plain-http proxy may see one. */
export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
