/** Exit codes are part of the CLI's contract with scripts and cron: never renumber them. */
export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  Credentials: 3,
  Quota: 4,
  Api: 5,
  /** SIGHUP: the terminal or the Windows console window was closed. */
  HungUp: 129,
  Interrupted: 130,
  Terminated: 143,
  /** SIGBREAK: Ctrl-Break on Windows (signal 21 there). */
  Broken: 149,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** How a transient failure may be retried: the client decides whether it still may. */
export type RetryHint =
  | { kind: 'backoff'; retryAfterMs?: number }
  /** 45011: the per-minute limit lifts when the next minute starts. */
  | { kind: 'next-minute' };

export interface WxErrorDetails {
  /** The API's errcode, when the failure came from an API answer. */
  errcode?: number;
  errmsg?: string;
  cause?: unknown;
  /** Nothing to tell the person: the reader of stdout went away, say. */
  silent?: boolean;
  retry?: RetryHint;
  /**
   * A third-party platform's own failure (its IP off its whitelist, its token refused): every
   * account a run exports through it would meet it, so the run starts no other.
   */
  platformWide?: boolean;
}

/**
 * The one error type that leaves the client, the pager and the sinks. Its message is written
 * for a person and is printed as it is, so it must never carry a token or a secret.
 */
export class WxError extends Error {
  readonly exitCode: ExitCode;
  readonly errcode: number | undefined;
  readonly errmsg: string | undefined;
  readonly silent: boolean;
  readonly retry: RetryHint | undefined;
  readonly platformWide: boolean;

  constructor(message: string, exitCode: ExitCode, details: WxErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WxError';
    this.exitCode = exitCode;
    this.errcode = details.errcode;
    this.errmsg = details.errmsg;
    this.silent = details.silent ?? false;
    this.retry = details.retry;
    this.platformWide = details.platformWide ?? false;
  }
}

export function usageError(message: string): WxError {
  return new WxError(message, ExitCode.Usage);
}

/**
 * An answer without the shape the API documents. Not retried unless `retry` says so, since the
 * same call mostly gets the same answer; a page that lost its cursor is retried (the pager).
 */
export function malformedAnswer(subject: string, what: string, retry?: RetryHint): WxError {
  return new WxError(`The API's answer ${subject} is malformed: ${what}. Try again later.`, ExitCode.Api, { retry });
}

/** "errcode 40001: invalid credential rid: ...", as messages quote it; the errmsg is the API's text, shown escaped. */
export function errcodeDetail(errcode: number | undefined, errmsg: string | undefined): string {
  return `errcode ${errcode}: ${errmsg ? shownKeepingEnd(errmsg) : 'no errmsg'}`;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it escapes.
const ESCAPED = /[\\\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

/**
 * Text from outside (an errmsg, a certificate's names) as a message may show it: control
 * characters, and the invisible ones that reorder or hide text, become \u{...} escapes.
 */
export function escapeText(text: string): string {
  return text.replace(ESCAPED, (char) => (char === '\\' ? '\\\\' : `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`));
}

/**
 * Text from outside (an input line, an errmsg, a value typed on the command line) as a message
 * may show it: cut to `maxLength` characters, then escaped (escapeText), so that a line can
 * neither move the cursor nor pass for something else.
 */
export function shown(text: string, maxLength = 200): string {
  return escapeText(text.length > maxLength ? `${text.slice(0, maxLength)}...` : text);
}

/**
 * As `shown`, but a long text is cut in the middle: the end of an errmsg holds the request id
 * (`rid: ...`) that the platform's support asks for.
 */
function shownKeepingEnd(text: string, maxLength = 200): string {
  if (text.length <= maxLength) return escapeText(text);
  const head = Math.ceil(maxLength / 2);
  return escapeText(`${text.slice(0, head)}...${text.slice(text.length - (maxLength - head))}`);
}

/** 1 OpenID, 2 OpenIDs; the count grouped as people read it (10,000). */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${grouped(count)} ${count === 1 ? singular : plural}`;
}

/** toLocaleString('en-US') of a whole number, without loading ICU's locale data (10 ms of a run). */
export function grouped(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The way to credentials the tool renews itself: said wherever a token alone fell short. */
export const HOW_TO_GIVE_APP_CREDENTIALS =
  "Give the account's AppID and AppSecret (--appid and --secret, WX_APPID and WX_SECRET, or " +
  '`wx-followers config set appid ...` and `config set secret -`) and the tool gets and renews its own token.';
