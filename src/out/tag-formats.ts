import type { Tag } from '../openid.js';
import { guardFormula } from './details-formats.js';
import { csvTable, type FormatName, type RecordFormat } from './formats.js';

/** Tab, line breaks and other controls would break a tab-separated line or a table row. */
export function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it replaces.
  return text.replace(/[\x00-\x1f\x7f]/g, ' ');
}

const text: RecordFormat<Tag> = {
  header: '',
  encode: (tags) => tags.map((tag) => `${tag.id}\t${oneLine(tag.name)}\t${tag.count}\n`).join(''),
};

const ndjson: RecordFormat<Tag> = {
  header: '',
  encode: (tags) => tags.map((tag) => `${JSON.stringify({ id: tag.id, name: tag.name, count: tag.count })}\n`).join(''),
};

/** `tags --format`: text is tab-separated, without a header, for `cut` and `while read`. */
export async function tagFormat(name: FormatName): Promise<RecordFormat<Tag>> {
  if (name === 'text') return text;
  if (name === 'ndjson') return ndjson;
  return csvTable(['id', 'name', 'count'], (tag: Tag) => [String(tag.id), guardFormula(tag.name), String(tag.count)]);
}
