import { shown, ExitCode, WxError } from '../errors.js';
import type { IOStreams } from './streams.js';

/**
 * Writes messages to stderr with every known secret blanked out: the last guard, behind messages
 * that are written to carry none.
 */
export class Reporter {
  readonly #io: IOStreams;
  readonly #secrets = new Set<string>();

  constructor(io: IOStreams) {
    this.#io = io;
  }

  addSecret(secret: string): void {
    if (secret.length >= 4) this.#secrets.add(secret);
  }

  line(message: string): void {
    this.#io.stderr.write(`${this.redact(message)}\n`);
  }

  /** Prints the error for a person and gives the exit code it stands for. */
  error(error: unknown): ExitCode {
    if (error instanceof WxError) {
      if (!error.silent) this.line(`wx-followers: ${error.message}`);
      return error.exitCode;
    }
    // Whatever threw it may quote outside text (a path, a value): shown escaped.
    const detail = shown(error instanceof Error ? error.message : String(error), 1000);
    this.line(`wx-followers: unexpected error: ${detail}`);
    if (this.#io.env['WX_FOLLOWERS_DEBUG'] && error instanceof Error && error.stack) this.line(error.stack);
    return ExitCode.Failure;
  }

  redact(text: string): string {
    let redacted = text;
    for (const secret of this.#secrets) redacted = blankCutPieces(redacted.split(secret).join('[redacted]'), secret);
    return redacted;
  }
}

/**
 * A long errmsg is shown cut (`shown`: "head...", or "head...tail"), and the cut may fall inside a
 * secret it quotes: the piece of the secret left before or after the "..." is blanked too.
 */
function blankCutPieces(text: string, secret: string): string {
  if (!text.includes('...')) return text;
  return text.replace(
    /(\S*?)\.\.\.(\S*)/g,
    (_cut, before: string, after: string) => `${blankTail(before, secret)}...${blankHead(after, secret)}`,
  );
}

/** `piece` with its end blanked when that end is how `secret` begins (4 characters at least). */
function blankTail(piece: string, secret: string): string {
  for (let length = Math.min(piece.length, secret.length - 1); length >= 4; length -= 1) {
    if (secret.startsWith(piece.slice(-length))) return `${piece.slice(0, -length)}[redacted]`;
  }
  return piece;
}

/** `piece` with its start blanked when that start is how `secret` ends (4 characters at least). */
function blankHead(piece: string, secret: string): string {
  for (let length = Math.min(piece.length, secret.length - 1); length >= 4; length -= 1) {
    if (secret.endsWith(piece.slice(0, length))) return `[redacted]${piece.slice(length)}`;
  }
  return piece;
}

/**
 * One account's reporter in a run over several: each of its lines names the profile
 * (`wx-followers [shop]: ...`), so that accounts run at once stay readable side by side.
 */
export class AccountReporter extends Reporter {
  readonly #profile: string;
  readonly #run: Reporter | undefined;

  /** `run`: the run's reporter, whose secrets (a platform's token, refresh tokens) are blanked here too. */
  constructor(io: IOStreams, profile: string, run?: Reporter) {
    super(io);
    this.#profile = profile;
    this.#run = run;
  }

  override redact(text: string): string {
    const own = super.redact(text);
    return this.#run === undefined ? own : this.#run.redact(own);
  }

  override line(message: string): void {
    const named = `wx-followers [${this.#profile}]:`;
    super.line(message.startsWith('wx-followers:') ? `${named}${message.slice('wx-followers:'.length)}` : `${named} ${message}`);
  }
}
