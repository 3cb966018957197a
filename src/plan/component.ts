import type { ProxyChoice } from '../api/proxy.js';
import type { IOStreams } from '../console/streams.js';
import { escapeText, usageError } from '../errors.js';
import { configFilePath, type StoredSettings } from '../out/config-store.js';
import { planTransport, type TransportFlags, type TransportPlan } from './connection.js';
import { resolveSetting, type Setting, type TokenService } from './credentials.js';
import { parseAppid, parseComponentTokenUrl } from './options.js';

/** The flags of a third-party platform (WeChat Open Platform): its AppID and where its component token comes from. */
export interface ComponentFlags {
  componentAppid?: string;
  componentTokenCommand?: string;
  componentTokenUrl?: string;
}

/**
 * The platform's credentials. Its component token comes from the platform's own server (a
 * command or a URL): only that server receives the component_verify_ticket that mints one.
 */
interface ComponentCredentials {
  appid: Setting;
  service: TokenService;
}

/** The three ways to give the platform's token source, as messages list them. */
const HOW_TO_GIVE_COMPONENT_TOKEN =
  '--component-token-command CMD or --component-token-url URL, the environment variable WX_COMPONENT_TOKEN_COMMAND or WX_COMPONENT_TOKEN_URL, ' +
  'or the config (`wx-followers config set component-token-url URL`, in a profile with --profile NAME)';

const SOURCES = [
  {
    kind: 'command',
    option: 'componentTokenCommand',
    flag: '--component-token-command',
    env: 'WX_COMPONENT_TOKEN_COMMAND',
    key: 'component-token-command',
  },
  { kind: 'url', option: 'componentTokenUrl', flag: '--component-token-url', env: 'WX_COMPONENT_TOKEN_URL', key: 'component-token-url' },
] as const;

type Source = (typeof SOURCES)[number];

/**
 * The platform's token source and AppID (flag > env > config, a level winning whole as for an
 * account's token sources), or undefined when none gives a source. A command and a URL at the
 * same level is a usage error; a source without a component AppID too. Requests nothing.
 */
async function resolveComponent(
  flags: ComponentFlags,
  io: IOStreams,
  store: () => Promise<StoredSettings>,
  proxyFor: (url: URL) => Promise<ProxyChoice>,
): Promise<ComponentCredentials | undefined> {
  const source = await chosenSource(flags, io.env, await store());
  if (source === undefined) return undefined;
  const appid = await resolveSetting(flags.componentAppid, 'WX_COMPONENT_APPID', 'component-appid', io, store);
  if (appid === undefined) {
    throw usageError(
      "The third-party platform's token source is set, but not its AppID: give it with --component-appid, WX_COMPONENT_APPID " +
        "or `wx-followers config set component-appid wx...` (WeChat Open Platform, the platform's details).",
    );
  }
  parseAppid(appid.value, appid.origin);
  const setting = await resolveSetting(flags[source.option], source.env, source.key, io, store);
  if (setting === undefined) throw new Error('a component token source was chosen without a value');
  if (source.kind === 'command') {
    return {
      appid,
      service: {
        kind: 'command',
        command: setting.value,
        from: setting.origin,
        appid: undefined,
        env: io.env,
        componentAppid: appid.value,
      },
    };
  }
  const url = parseComponentTokenUrl(setting.value, setting.origin, appid.value);
  const authorization = io.env['WX_COMPONENT_TOKEN_URL_AUTH']?.trim();
  const service: TokenService = {
    kind: 'url',
    url,
    from: setting.origin,
    authorization: authorization || undefined,
    proxy: await proxyFor(url),
    names: { setting: '--component-token-url', authorizationEnv: 'WX_COMPONENT_TOKEN_URL_AUTH' },
  };
  return { appid, service };
}

/** The source of the first level (flags, env, config) that gives one; both at one level is refused. */
async function chosenSource(flags: ComponentFlags, env: NodeJS.ProcessEnv, store: StoredSettings): Promise<Source | undefined> {
  const levels = [
    { where: 'on the command line', value: (source: Source) => flags[source.option]?.trim(), name: (source: Source) => source.flag },
    { where: 'in the environment', value: (source: Source) => env[source.env]?.trim(), name: (source: Source) => source.env },
    {
      where: `in the config file ${configFilePath(env)}${store.profile === undefined ? '' : ` (profile ${store.profile})`}`,
      value: (source: Source) => store.get(source.key),
      name: (source: Source) => source.key,
    },
  ];
  for (const level of levels) {
    const given = SOURCES.filter((source) => {
      const value = level.value(source);
      return value !== undefined && value !== '';
    });
    if (given.length > 1) {
      throw usageError(
        `${given.map((source) => level.name(source)).join(' and ')} were given together ${escapeText(level.where)}: ` +
          "give only one source of the platform's component token.",
      );
    }
    if (given[0] !== undefined) return given[0];
  }
  return undefined;
}

/** Where and how the API is called, with the platform's component token. */
export interface ComponentConnectionPlan extends TransportPlan {
  component: ComponentCredentials;
}

/**
 * The transport and the platform's credentials, both required: `needs` says what for
 * ('`wx-followers accounts`'), in the message of a missing source. Requests nothing.
 */
export async function planComponentConnection(
  flags: TransportFlags & ComponentFlags,
  io: IOStreams,
  needs: string,
): Promise<ComponentConnectionPlan> {
  const { transport, store, proxyFor } = await planTransport(flags, io);
  const component = await resolveComponent(flags, io, store, proxyFor);
  if (component === undefined) {
    throw usageError(
      `${needs} needs the third-party platform's component token, from the platform's server (this tool cannot mint one: ` +
        `only that server receives the component_verify_ticket). Give its source with ${HOW_TO_GIVE_COMPONENT_TOKEN}, and the platform's AppID with --component-appid.`,
    );
  }
  return { ...transport, component };
}
