import type { HeldToken, TokenSource } from './client.js';
import { ExitCode, WxError, errcodeDetail } from '../errors.js';

/** A token as a token command or a token service hands it out. */
export interface ProvidedToken {
  value: string;
  /** Seconds it has left, when the answer said (`expires_in`). */
  expiresInSeconds: number | undefined;
}

/**
 * Where tokens come from when another program owns them (a central token server, 中控服务器):
 * they are asked for, never minted, and never cached by this tool.
 */
export interface TokenProvider {
  /** 'the token command from --token-command', for messages: never the command or its output. */
  readonly name: string;
  /** How it is told that the API refused its token: 'WX_TOKEN_REFRESH=1', 'refresh=1'. */
  readonly refreshHint: string;
  /** A token; `refresh` when the API refused the one it gave. A failure is a WxError (exit 3 or 5). */
  get(refresh: boolean): Promise<ProvidedToken>;
}

/** Renewed this long before it runs out, or a tenth of its life for a token that lives less than 50 minutes. */
const RENEWAL_MARGIN_MS = 5 * 60 * 1000;

function renewalMarginMs(lifetimeMs: number): number {
  return Math.min(RENEWAL_MARGIN_MS, lifetimeMs / 10);
}

/**
 * Tokens from a provider, as the client takes them: asked for on first use, asked again before
 * the expiry it told, and asked once again (refresh) when the API refuses one; a token asked
 * again that is refused too stops the run (exit 3).
 */
export class ProvidedTokens implements TokenSource {
  readonly #provider: TokenProvider;
  readonly #onSecret: (secret: string) => void;
  readonly #now: () => number;
  /** Whose token it hands out, for the message of a token refused twice. */
  readonly #serves: string;
  #current: Promise<HeldToken> | undefined;
  /** When the current token is to be asked for again; infinite while an ask is under way or without an expiry. */
  #renewAt = Number.POSITIVE_INFINITY;
  /** Counts asks: the calls refused with one generation's token share one ask. */
  #generation = 0;

  constructor(provider: TokenProvider, onSecret: (secret: string) => void, options: { now?: () => number; serves?: string } = {}) {
    this.#provider = provider;
    this.#onSecret = onSecret;
    this.#now = options.now ?? Date.now;
    this.#serves =
      options.serves ??
      "the current token of this account (the AppID it serves), and that nothing else forces refreshes of the account's token";
  }

  token(): Promise<HeldToken> {
    if (this.#current === undefined || this.#now() >= this.#renewAt) this.#current = this.#ask(false);
    return this.#current;
  }

  isSuperseded(held: HeldToken): boolean {
    return held.generation < this.#generation;
  }

  renew(refused: HeldToken): Promise<HeldToken> {
    if (this.isSuperseded(refused) && this.#current !== undefined) return this.#current;
    this.#current = this.#ask(true);
    return this.#current;
  }

  /** Nothing is kept between runs: the provider's owner keeps its tokens. */
  async discard(): Promise<void> {}

  refusedAfterRenewal(refusal: WxError): WxError {
    const { name, refreshHint } = this.#provider;
    return new WxError(
      `The API refused the access token that ${name} gave when asked again (${refreshHint}), as it refused the one before (${errcodeDetail(refusal.errcode, refusal.errmsg)}). ` +
        `Check that it hands out ${this.#serves}.`,
      ExitCode.Credentials,
      { errcode: refusal.errcode, errmsg: refusal.errmsg },
    );
  }

  async #ask(refresh: boolean): Promise<HeldToken> {
    this.#generation += 1;
    const generation = this.#generation;
    this.#renewAt = Number.POSITIVE_INFINITY;
    const token = await this.#provider.get(refresh);
    this.#onSecret(token.value);
    if (token.expiresInSeconds !== undefined && generation === this.#generation) {
      const lifetimeMs = token.expiresInSeconds * 1000;
      this.#renewAt = this.#now() + lifetimeMs - renewalMarginMs(lifetimeMs);
    }
    return { value: token.value, generation };
  }
}

/**
 * What an access token looks like: the platform's are letters, digits, '_' and '-', 100 to 200
 * long (512 reserved); a little more is let through, but not a word, a sentence, HTML or an
 * error message, which a command that failed quietly prints.
 */
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=*-]{16,4096}$/;

/**
 * A provider's answer read as a token: one line holding it, or a JSON object with `access_token`
 * and optionally `expires_in` (seconds). Anything else is described without a character of it
 * ('3 lines that are not a token'): whatever a provider prints may be a secret.
 */
export function readProvidedToken(text: string): ProvidedToken | { problem: string } {
  const trimmed = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).trim();
  if (trimmed === '') return { problem: 'nothing' };
  if (trimmed.startsWith('{')) return readJsonToken(trimmed);
  const lines = trimmed.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length > 1) return { problem: `${lines.length} lines that are not a token` };
  if (!TOKEN_SHAPE.test(trimmed)) return { problem: 'a line that is not a token' };
  return { value: trimmed, expiresInSeconds: undefined };
}

function readJsonToken(text: string): ProvidedToken | { problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: 'something that starts like JSON but is not JSON' };
  }
  const { access_token: token, expires_in: expiresIn } = json as Record<string, unknown>;
  if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) return { problem: 'a JSON object without a usable access_token' };
  if (expiresIn === undefined || expiresIn === null) return { value: token, expiresInSeconds: undefined };
  const seconds = typeof expiresIn === 'string' && /^[0-9]{1,9}$/.test(expiresIn.trim()) ? Number(expiresIn.trim()) : expiresIn;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    return { problem: 'a JSON object whose expires_in is not a number of seconds greater than 0' };
  }
  return { value: token, expiresInSeconds: seconds };
}

/** How a token is to be given, said wherever a provider gave something else. */
export const PROVIDED_TOKEN_FORMAT =
  'It must give the access token alone on one line, or a JSON object with access_token (and optionally expires_in, in seconds)';
