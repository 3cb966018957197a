import { escapeText } from './escape.js';

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
export function shownKeepingEnd(text: string, maxLength = 200): string {
  if (text.length <= maxLength) return escapeText(text);
  const head = Math.ceil(maxLength / 2);
  return escapeText(`${text.slice(0, head)}...${text.slice(text.length - (maxLength - head))}`);
}

/** 1 OpenID, 2 OpenIDs; the count grouped as people read it (10,000). */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : plural}`;
}
