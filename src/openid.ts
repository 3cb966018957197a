/**
 * What an OpenID is made of (the body of a regular expression's class), and its longest length:
 * the OpenID's shape, said once for every module that checks or reads one.
 */
export const OPENID_CHARACTERS = 'A-Za-z0-9_-';
const OPENID_MAX_LENGTH = 64;

const OPENID = new RegExp(`^[${OPENID_CHARACTERS}]{1,${OPENID_MAX_LENGTH}}$`);

/** Letters, digits, '-' and '_', at most 64: what a cursor of the API looks like. */
export function isOpenidShape(value: string): boolean {
  return OPENID.test(value);
}

/**
 * A page's OpenIDs in pieces, each checked in one go and joined once. One regular expression a
 * piece rather than one an OpenID: per OpenID, the test cost a third of a fast export's time.
 */

/** OpenIDs whose shape is known, and the same joined by '\n': what the formats write. */
export interface OpenidPiece {
  readonly openids: readonly string[];
  readonly joined: string;
}

/**
 * OpenIDs a piece: a string of a whole page (300 KB) would land in V8's large-object space,
 * where every string is mapped and unmapped on its own (twice an export's system time).
 */
const OPENIDS_A_PIECE = 2_048;

/**
 * Non-empty strings joined by '\n' are that many OpenIDs when the text is that many lines of
 * OpenID characters: the count of lines is what catches a '\n' inside one of them.
 */
function openidLines(count: number): RegExp {
  return new RegExp(`^(?:[${OPENID_CHARACTERS}]+\\n){${count - 1}}[${OPENID_CHARACTERS}]+$`);
}

const WHOLE_PIECE = openidLines(OPENIDS_A_PIECE);

/**
 * The pieces of `list` when every entry is an OpenID (letters, digits, '-' and '_', 1 to 64);
 * undefined when any is not, or is empty, for the caller to look at one by one.
 */
export function checkedPieces(list: readonly unknown[]): OpenidPiece[] | undefined {
  for (const entry of list) {
    if (typeof entry !== 'string' || entry.length === 0 || entry.length > OPENID_MAX_LENGTH) return undefined;
  }
  const pieces = piecesOf(list as readonly string[]);
  const allOpenids = pieces.every(({ openids, joined }) =>
    (openids.length === OPENIDS_A_PIECE ? WHOLE_PIECE : openidLines(openids.length)).test(joined),
  );
  return allOpenids ? pieces : undefined;
}

/** OpenIDs already known to be OpenIDs, in pieces. */
export function piecesOf(openids: readonly string[]): OpenidPiece[] {
  const pieces: OpenidPiece[] = [];
  for (let start = 0; start < openids.length; start += OPENIDS_A_PIECE) {
    const piece = openids.slice(start, start + OPENIDS_A_PIECE);
    pieces.push({ openids: piece, joined: piece.join('\n') });
  }
  return pieces;
}

/** The rows the tool writes besides OpenIDs: said here, once, for the API that reads them and the formats that write them. */

/** One of the account's tags, as `GET /cgi-bin/tags/get` lists it. */
export interface Tag {
  id: number;
  name: string;
  /** Followers carrying the tag. */
  count: number;
}

/** One object of `user_info_list`, kept as the API gave it; only its OpenID is relied on. */
export interface FollowerInfo {
  readonly openid: string;
  readonly [field: string]: unknown;
}

/** Which list of the account an export walks: what a plan names and a state file records. */
export type FollowerList = { kind: 'followers' } | { kind: 'tag'; tagid: number } | { kind: 'blacklist' };

/** How messages and the state file name a list ("follower list", "followers with tag 134", "blacklist"). */
export function describeList(list: FollowerList): string {
  if (list.kind === 'tag') return `followers with tag ${list.tagid}`;
  return list.kind === 'blacklist' ? 'blacklist' : 'follower list';
}

/** The languages `user/info/batchget` answers in (--lang). */
export const DETAILS_LANGUAGES = ['zh_CN', 'zh_TW', 'en'] as const;
export type DetailsLanguage = (typeof DETAILS_LANGUAGES)[number];

/**
 * An account as a state file records it: its AppID when the run knows one (from --appid, WX_APPID
 * or the config store, with or without a token); else where the token comes from. Not the token,
 * nor any digest of it: a token changes at every renewal (2 hours at most), so its digest would
 * refuse the same account's next run, and a digest of a live secret lets anyone who reads the
 * state check a guess of it. Where the token comes from is stable across runs and no secret:
 * `WX_ACCESS_TOKEN`, `--access-token`, `stdin`, or the config file that holds it (cron jobs keep
 * accounts apart with a config folder each, WX_FOLLOWERS_CONFIG_DIR).
 */
export type AccountId = { appid: string } | { tokenFrom: string };

/** What `wx-followers accounts --with-info` learnt of an account (api_get_authorizer_info). */
interface AuthorizerDetails {
  /** The account's name (nick_name): outside text. */
  name: string;
  /** service_type_info.id: 0 and 1 subscription accounts, 2 service accounts. */
  serviceType: number | undefined;
  /** verify_type_info.id: -1 unverified, 0 WeChat verification, 1 to 5 others. */
  verifyType: number | undefined;
  /** Whether it granted user management (function scope 2), which a follower export needs. */
  userManagement: boolean;
}

/** An account that authorized a third-party platform, as `wx-followers accounts` lists it: never its refresh token. */
export interface AuthorizerRow {
  appid: string;
  /** When it authorized the platform, Unix seconds. */
  authTime: number;
  /** Undefined without --with-info; 'withdrawn' when the authorization was withdrawn after the list was read (61003). */
  details: AuthorizerDetails | 'withdrawn' | undefined;
}
