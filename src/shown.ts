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
export function shownKeepingEnd(text: string, maxLength = 200): string {
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
