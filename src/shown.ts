/**
 * Text from outside (an input line, an errmsg, a value typed on the command line) as a message
 * may show it: control characters, and the ones that reorder or hide what a terminal draws, are
 * written as escapes, so that a line can neither move the cursor nor pass for something else.
 */
export function shown(text: string, maxLength = 200): string {
  const cut = text.length > maxLength ? `${text.slice(0, maxLength)}...` : text;
  return cut.replace(UNSAFE, (character) => ESCAPES.get(character) ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** C0 and C1 controls, DEL, the line and paragraph separators, bidi controls, zero-width characters and the BOM. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\\]/g;

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\\', '\\\\'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
]);

/** 1 OpenID, 2 OpenIDs; the count grouped as people read it (10,000). */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : plural}`;
}
