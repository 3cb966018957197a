import type { Dispatcher } from 'undici';
import { ExitCode, WxError, counted, shown } from '../errors.js';
import { errorForErrcode } from './errcodes.js';

/** What the client knows of an answer besides its body, to read it and to say what it was. */
export interface AnswerContext {
  /** The API's origin, as messages name it. */
  origin: string;
  /** The request's path: never its query, which carries the access token. */
  path: string;
  headers: Dispatcher.ResponseData['headers'];
  /** The values the request carried that no message may show, not even in part (the token, the AppSecret). */
  secrets: readonly string[];
  /** ' through the proxy HOST:PORT', or '' without one. */
  via: string;
  /** The account is run through a third-party platform (export --authorized). */
  throughPlatform?: boolean;
}

/** A JSON object, as every answer of the API is. */
export type JsonObject = Record<string, unknown>;

/** How much of a body that is not the API's a message shows. */
const EXCERPT_CHARACTERS = 80;

/**
 * The body as the JSON object the API answers with, its errcode turned into a WxError. The
 * Content-Type of the API is not reliable: the body is read as JSON whatever it says. A body that
 * is not JSON says what it is and what to check (notJson).
 */
export function parseAnswer(body: Buffer, context: AnswerContext): JsonObject {
  if (isCompressed(body, context.headers)) throw compressedAnswer(body, context);
  const text = body.toString('utf8');
  let json: unknown;
  try {
    // A body saved by an editor or a proxy on Windows may start with a UTF-8 byte order mark.
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    throw notJson(body, text, context);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WxError(`The API's answer to ${context.path} is not a JSON object (${described(body, text, context)}).`, ExitCode.Api, {
      retry: { kind: 'backoff' },
    });
  }
  const answer = json as JsonObject;
  const errcode = numericErrcode(answer['errcode']);
  if (errcode !== undefined && errcode !== 0) {
    const errmsg = typeof answer['errmsg'] === 'string' ? answer['errmsg'] : '';
    if (typeof errcode !== 'number') {
      throw new WxError(`The API's answer to ${context.path} has an errcode that is not a number.`, ExitCode.Api);
    }
    throw errorForErrcode(errcode, errmsg, context.path, { throughPlatform: context.throughPlatform === true });
  }
  return answer;
}

/** Some gateways quote the errcode ("40001"): it is read as the number it spells. */
function numericErrcode(errcode: unknown): unknown {
  return typeof errcode === 'string' && /^-?[0-9]{1,9}$/.test(errcode.trim()) ? Number(errcode.trim()) : errcode;
}

/**
 * The client sends no Accept-Encoding: an answer with a Content-Encoding (but identity), or that
 * starts with gzip's magic bytes, was compressed by something on the way that did not ask.
 */
function isCompressed(body: Buffer, headers: AnswerContext['headers']): boolean {
  const encoding = header(headers, 'content-encoding')?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') return true;
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** Not retried: whatever compresses the answers will compress the next one too. */
function compressedAnswer(body: Buffer, context: AnswerContext): WxError {
  // Latin-1, so that each byte shows as one character (escaped), where UTF-8 would blur them into U+FFFD.
  return new WxError(
    `The answer of ${context.origin} to ${context.path} is compressed (${described(body, body.toString('latin1'), context)}), ` +
      `though this tool asks for no compression: something on the way${context.via} compresses answers unasked (a proxy, a gateway, a security appliance). ` +
      'Have it pass the answers on unchanged, or go around it (NO_PROXY, another network).',
    ExitCode.Api,
  );
}

/**
 * A 200 whose body is not JSON, told apart by what it is. A page of HTML (a captive portal, a
 * gateway answering in the API's place) and an empty stable_token answer come back the same on
 * every try, and stop at once; a body cut off or garbled on the way, or an empty one elsewhere,
 * may pass, and is retried.
 */
function notJson(body: Buffer, text: string, context: AnswerContext): WxError {
  const { origin, path } = context;
  const what = described(body, text, context);
  if (text.trim() === '') {
    if (path === '/cgi-bin/stable_token') {
      return new WxError(
        `The API answered stable_token with an empty body (${what}), not JSON: it answers so for an AppID and AppSecret it does not take. ` +
          'Check the AppID and the AppSecret (Official Account settings, Development > Basic configuration); reset the AppSecret there if unsure.',
        ExitCode.Credentials,
      );
    }
    return new WxError(`The answer of ${origin} to ${path} is empty (${what}), not JSON. Try again later.`, ExitCode.Api, {
      retry: { kind: 'backoff' },
    });
  }
  if (isHtml(text, context.headers)) {
    return new WxError(
      `The answer of ${origin} to ${path} is an HTML page (${what}), not the API's JSON: something between this machine and the API${context.via} ` +
        'answered in its place, such as the sign-in page of a captive portal (hotel, airport or office Wi-Fi) or a gateway. ' +
        `Open ${origin} in a browser on this machine to see what answers; sign in, or check --base-url and the network.`,
      ExitCode.Api,
    );
  }
  return new WxError(`The API's answer to ${path} is not JSON (${what}): cut off or garbled on the way. Try again later.`, ExitCode.Api, {
    retry: { kind: 'backoff' },
  });
}

function isHtml(text: string, headers: AnswerContext['headers']): boolean {
  if (/html/i.test(header(headers, 'content-type') ?? '')) return true;
  return /^\s*<(!doctype html|html|head|body|title|meta|script)\b/i.test(text);
}

/**
 * "HTTP 200, Content-Type text/html, 1,234 bytes: '<html>...'": what the answer was, its start
 * escaped, with the request's secrets blanked before it is cut, so that none shows even in part.
 */
function described(body: Buffer, text: string, context: AnswerContext): string {
  const { headers } = context;
  const type = header(headers, 'content-type');
  const encoding = header(headers, 'content-encoding');
  const parts = [
    'HTTP 200',
    type === undefined ? 'no Content-Type' : `Content-Type ${shown(type, EXCERPT_CHARACTERS)}`,
    ...(encoding === undefined ? [] : [`Content-Encoding ${shown(encoding, EXCERPT_CHARACTERS)}`]),
    counted(body.length, 'byte'),
  ];
  const excerpt = body.length === 0 ? '' : `: '${shown(withoutSecrets(text, context.secrets), EXCERPT_CHARACTERS)}'`;
  return `${parts.join(', ')}${excerpt}`;
}

/**
 * The text with the request's secrets blanked, and whatever follows `access_token=` (`component_access_token=` too), a
 * `refresh_token` or a `secret` key: a gateway's page may echo the URL or the request, cut short.
 */
function withoutSecrets(text: string, secrets: readonly string[]): string {
  let blanked = text;
  for (const secret of secrets) if (secret.length >= 4) blanked = blanked.split(secret).join('[redacted]');
  return blanked.replace(/(access_token|refresh_token|secret)(["']?\s*[=:]\s*["']?)[^&\s"'<>,;}]+/gi, '$1$2[redacted]');
}

function header(headers: AnswerContext['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
