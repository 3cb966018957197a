import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { recordFormat } from '../src/sinks/formats.js';

const awkward = ['oPlain_-9', 'has,comma', 'has"quote', 'has\nnewline', 'has\r\nCRLF', 'has\rCR', '=formula', ' spaced ', '', 'x'];

describe('formats', () => {
  it('csv is byte for byte what csv-stringify writes a record per OpenID, awkward values included', async () => {
    const csv = await recordFormat('csv');
    expect(csv.header).toBe('openid\n');
    expect(csv.encode(awkward)).toBe(stringify(awkward.map((value) => [value])));
    expect(csv.encode(['a'])).toBe('a\n');
    expect(csv.encode([])).toBe('');
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
