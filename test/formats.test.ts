import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { recordFormat } from '../src/out/formats.js';

const awkward = ['oPlain_-9', 'has,comma', 'has"quote', 'has\nnewline', 'has\r\nCRLF', 'has\rCR', '=formula', ' spaced ', '', 'x'];

describe('formats', () => {
  it('csv is byte for byte what csv-stringify writes a record per OpenID, awkward values included', async () => {
    const csv = await recordFormat('csv');
    expect(csv.header).toBe('openid\n');
    expect(csv.header).toBe(stringify([['openid']]));
    expect(csv.encode(awkward)).toBe(stringify(awkward.map((value) => [value])));
    expect(csv.encode(['a'])).toBe('a\n');
    expect(csv.encode([])).toBe('');
  });

  it('csv joins OpenIDs that need no quoting and stringifies a slice with any that do, the same bytes either way', async () => {
    const csv = await recordFormat('csv');
    const perRecord = (values: readonly string[]): string => stringify(values.map((value) => [value]));
    const plain = ['oAbc-DEF_0123456789xyzXYZ-_q', '-', '_', '0', 'o6_0123', '-leading-dash'];
    expect(csv.encode(plain)).toBe(perRecord(plain));
    expect(csv.encode(plain)).toBe(`${plain.join('\n')}\n`);
    for (const odd of awkward.filter((value) => !/^[A-Za-z0-9_-]+$/.test(value))) {
      const mixed = [...plain, odd, ...plain];
      expect(csv.encode(mixed)).toBe(perRecord(mixed));
      expect(csv.encode([odd])).toBe(perRecord([odd]));
    }
    for (const notPlain of ['o.dot', 'o space', 'o;semi', 'oé', 'o#hash', 'o\ttab', "o'quote"]) {
      expect(csv.encode(['oA', notPlain])).toBe(perRecord(['oA', notPlain]));
    }
  });

  it('ndjson is one JSON object a line, escaped as JSON.stringify escapes', async () => {
    const ndjson = await recordFormat('ndjson');
    const lines = ndjson.encode(awkward).split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => (JSON.parse(line) as { openid: string }).openid)).toEqual(awkward);
    expect(ndjson.encode(['o1'])).toBe('{"openid":"o1"}\n');
    const plain = ['oA-b_9', 'o~!#$%&()*+,./:;<=>?@[]^`{|}'];
    expect(ndjson.encode(plain)).toBe(plain.map((openid) => `${JSON.stringify({ openid })}\n`).join(''));
    for (const odd of ['a"b', 'a\\b', 'tab\there', 'é', '\u2028']) {
      expect(ndjson.encode(['o1', odd])).toBe(`{"openid":"o1"}\n${JSON.stringify({ openid: odd })}\n`);
    }
  });

  it('text is one OpenID a line', async () => {
    const text = await recordFormat('text');
    expect(text.encode(['a', 'b'])).toBe('a\nb\n');
    expect(text.encode([])).toBe('');
  });
});
