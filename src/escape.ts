// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it escapes.
const ESCAPED = /[\\\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/gu;

/**
 * Text from outside (an errmsg, a certificate's names) as a message may show it: control
 * characters, and the invisible ones that reorder or hide text, become \u{...} escapes.
 */
export function escapeText(text: string): string {
  return text.replace(ESCAPED, (char) => (char === '\\' ? '\\\\' : `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`));
}
