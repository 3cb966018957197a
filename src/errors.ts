import { shownKeepingEnd } from './shown.js';

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

  constructor(message: string, exitCode: ExitCode, details: WxErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WxError';
    this.exitCode = exitCode;
    this.errcode = details.errcode;
    this.errmsg = details.errmsg;
    this.silent = details.silent ?? false;
    this.retry = details.retry;
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
