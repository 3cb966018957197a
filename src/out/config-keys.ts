/**
 * The keys of the config file, in one place: the store reads and writes them, `config` checks
 * them, and its --help and messages list them from here, so that a key added is listed everywhere.
 * No imports: the help reads it without loading the store.
 */
export const CONFIG_KEYS = [
  'access-token',
  'appid',
  'secret',
  'base-url',
  'proxy',
  'token-command',
  'token-url',
  // A third-party platform's (`wx-followers accounts`): its component AppID and where its component token comes from.
  'component-appid',
  'component-token-command',
  'component-token-url',
  // Where `export --authorized` takes each authorized account's token: the platform's server, {appid} saying whose.
  'authorizer-token-command',
  'authorizer-token-url',
  // The database of `sync` and `changes` when --db and WX_DB are not given: a profile's, or a single account's at the top level.
  'db',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

/**
 * What a profile holds besides every key of CONFIG_KEYS (so that a setting added there joins
 * profiles with nothing more): where its export goes when -o and --state are not given, and the
 * time zone of its {date}. The top level has none of them: it is one account's settings as before.
 */
export const PROFILE_ONLY_KEYS = ['output', 'state', 'time-zone'] as const;
export type ProfileKey = ConfigKey | (typeof PROFILE_ONLY_KEYS)[number];
export const PROFILE_KEYS: readonly ProfileKey[] = [...CONFIG_KEYS, ...PROFILE_ONLY_KEYS];

/** The profile a command uses when none is selected; unset, the top-level keys are used as before. */
export const DEFAULT_PROFILE_KEY = 'default-profile';

/**
 * Where stable tokens are kept between runs, one per AppID, each with a fingerprint of the
 * AppSecret it was got with; `config unset token-cache` clears it.
 */
export const TOKEN_CACHE_KEY = 'token-cache';

/** Every key `config` takes, and where: what its --help and an unknown key's message list. */
export const CONFIG_KEYS_LISTED =
  `${CONFIG_KEYS.join(', ')}, ${DEFAULT_PROFILE_KEY} (of the whole config); in a profile also ${PROFILE_ONLY_KEYS.join(', ')}; ` +
  `${TOKEN_CACHE_KEY} (get and unset only)`;
