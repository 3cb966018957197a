import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenidTable } from '../src/run/openid-table.js';
import { generatedFollowers, allOpenids } from './fake-api/followers.js';
import { FAKE_TOKEN } from './fake-api/server.js';
import { BIN, cleanEnv, onLinux, runCli, runProcess, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const ids = allOpenids(generatedFollowers(12));
const OLD = ids.slice(0, 8);
const NEW = [...ids.slice(3, 8), ...ids.slice(8, 12), ids[1] as string];
/** What diff of OLD and NEW writes as text: the added in NEW's order, then the removed in OLD's. */
const CHANGES = `${[...ids.slice(8, 12).map((id) => `+${id}`), `-${ids[0]}`, `-${ids[2]}`].join('\n')}\n`;

const FORMATS = {
  text: (openids: readonly string[]) => openids.map((id) => `${id}\n`).join(''),
  csv: (openids: readonly string[]) => `openid\n${openids.map((id) => `${id}\n`).join('')}`,
  ndjson: (openids: readonly string[]) => openids.map((id) => `{"openid":"${id}"}\n`).join(''),
};
type Format = keyof typeof FORMATS;

async function files(contents: Record<string, string>): Promise<(name: string) => string> {
  const dir = await tempDir();
  await Promise.all(Object.entries(contents).map(([name, text]) => writeFile(join(dir, name), text)));
  return (name) => join(dir, name);
}

async function diff(args: readonly string[], stdin?: string): Promise<CliResult> {
  return runCli(['diff', ...args], { ...(stdin === undefined ? {} : { stdin }) });
}

describe('diff', () => {
  const pairs = (Object.keys(FORMATS) as Format[]).flatMap((old) => (Object.keys(FORMATS) as Format[]).map((next) => [old, next] as const));

  it.each(pairs)('compares a %s export with a %s export', async (oldFormat, newFormat) => {
    const path = await files({ old: FORMATS[oldFormat](OLD), new: FORMATS[newFormat](NEW) });
    const result = await diff([path('old'), path('new')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(CHANGES);
  });

  it('writes CSV and NDJSON', async () => {
    const path = await files({ old: FORMATS.text(OLD), new: FORMATS.text(NEW) });
    const csv = await diff([path('old'), path('new'), '--format', 'csv']);
    expect(csv.stdout.toString()).toBe(
      `change,openid\n${ids
        .slice(8, 12)
        .map((id) => `added,${id}\n`)
        .join('')}removed,${ids[0]}\nremoved,${ids[2]}\n`,
    );
    const ndjson = await diff([path('old'), path('new'), '-f', 'ndjson']);
    expect(ndjson.stdout.toString().split('\n')[0]).toBe(`{"change":"added","openid":"${ids[8]}"}`);
    expect(ndjson.stdout.toString().split('\n')[5]).toBe(`{"change":"removed","openid":"${ids[2]}"}`);
  });

  it('writes nothing for identical exports, and only a header in CSV', async () => {
    const path = await files({ old: FORMATS.ndjson(OLD), new: FORMATS.text([...OLD].reverse()) });
    const same = await diff([path('old'), path('new')]);
    expect(same.code).toBe(0);
    expect(same.stdout.toString()).toBe('');
    expect((await diff([path('old'), path('new'), '-f', 'csv'])).stdout.toString()).toBe('change,openid\n');
  });

  it('reads empty exports (with --allow-empty), blank lines, CRLF and a CSV header alone', async () => {
    const path = await files({
      empty: '',
      headerOnly: '\uFEFFopenid\r\n',
      blanks: `\n${OLD.slice(0, 2).join('\r\n\r\n')}\r\n\n   \n`,
    });
    expect((await diff([path('empty'), path('headerOnly'), '--allow-empty'])).stdout.toString()).toBe('');
    const fromNothing = await diff([path('empty'), path('blanks'), '--allow-empty']);
    expect(fromNothing.code).toBe(0);
    expect(fromNothing.stdout.toString()).toBe(`+${OLD[0]}\n+${OLD[1]}\n`);
    expect((await diff([path('blanks'), path('headerOnly')])).stdout.toString()).toBe(`-${OLD[0]}\n-${OLD[1]}\n`);
  });

  it('refuses an empty input (what a failed `export > FILE` leaves) with exit 2 unless --allow-empty', async () => {
    const path = await files({ good: FORMATS.text(OLD), empty: '', blanks: '\n\n' });
    const message = (name: string): string =>
      `wx-followers: ${name} is empty, and an export that failed (\`export > FILE\` creates FILE before the run) leaves it so: diff would report every follower as gone. Export again. If the list really had no one in it (a text or NDJSON export of no one is empty), give --allow-empty.\n`;
    for (const args of [
      [path('good'), path('empty')],
      [path('empty'), path('good')],
      [path('good'), path('blanks')],
    ]) {
      const result = await diff(args);
      expect([result.code, result.stderr, result.stdout.toString()]).toEqual([
        2,
        message(args.find((arg) => arg !== path('good')) ?? ''),
        '',
      ]);
    }
    const fromStdin = await diff([path('good'), '-'], '');
    expect([fromStdin.code, fromStdin.stderr]).toEqual([2, message('stdin')]);
    const allowed = await diff([path('good'), '-', '--allow-empty'], '');
    expect([allowed.code, allowed.stdout.toString()]).toEqual([0, OLD.map((id) => `-${id}\n`).join('')]);
  });

  it.each([
    ['a gzip file', Buffer.from('1f8b0800000000000003cbc82c4bcd4dccc9e1020036f1b3f80a000000', 'hex')],
    ['UTF-16 text', Buffer.from(`\uFEFF${OLD.join('\r\n')}\r\n`, 'utf16le')],
    ['bytes that are not UTF-8, with no NUL and no line break', Buffer.from([0xff, 0xfe, 0x81, 0x90, 0xc3, 0x28])],
  ])('refuses %s as not text, not as cut off', async (_name, bytes) => {
    const path = await files({ good: FORMATS.text(OLD) });
    await writeFile(path('binary'), bytes);
    const result = await diff([path('good'), path('binary')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^wx-followers: ${path('binary')} is not an export: it is not text \\(it (holds NUL bytes|is not UTF-8)\\)\\. diff reads the text, CSV or NDJSON that export writes\\.\\n$`,
      ),
    );
  });

  it("reads an OpenID behind --with-info's formula guard as the OpenID", async () => {
    const path = await files({ old: `openid,remark\n'-dash_${'x'.repeat(20)},"=1,\n2"\n`, new: 'openid\n' });
    expect((await diff([path('old'), path('new')])).stdout.toString()).toBe(`--dash_${'x'.repeat(20)}\n`);
  });

  it('writes an OpenID once however often it appears', async () => {
    const path = await files({
      old: FORMATS.text([ids[0] as string, ids[0] as string]),
      new: FORMATS.text([ids[1] as string, ids[1] as string]),
    });
    expect((await diff([path('old'), path('new')])).stdout.toString()).toBe(`+${ids[1]}\n-${ids[0]}\n`);
  });

  it('reads one export from stdin', async () => {
    const path = await files({ new: FORMATS.csv(NEW) });
    const result = await diff(['-', path('new')], FORMATS.ndjson(OLD));
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(CHANGES);
    expect((await diff(['-', '-'], '')).code).toBe(2);
  });

  it('refuses an input that is not an export with exit 2, naming the file and the line', async () => {
    const path = await files({
      good: FORMATS.text(OLD),
      text: `${OLD[0]}\n${OLD[1]}\nhello world\n`,
      ndjson: `{"openid":"${OLD[0]}"}\n{"openid":\n`,
      csv: `name,openid\nx,${OLD[0]}\ny\n`,
    });
    const text = await diff([path('good'), path('text')]);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain(`${path('text')} line 3 is not part of an export: 'hello world' is not an OpenID`);
    expect(text.stdout.toString()).toBe('');
    expect((await diff([path('ndjson'), path('good')])).stderr).toContain(`${path('ndjson')} line 2 is not part of an export: not JSON`);
    expect((await diff([path('good'), path('csv')])).stderr).toContain(`${path('csv')} line 3 is not part of an export`);
    const unending = await files({ quote: `openid,remark\n${OLD[0]},"never closed\n${'more\n'.repeat(3)}`, long: 'o'.repeat(3 << 20) });
    expect((await diff([unending('quote'), path('good')])).stderr).toContain(
      `${unending('quote')} looks cut off: line 2 opens a quoted CSV field that never ends`,
    );
    const long = await diff([unending('long'), path('good')]);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain(`${unending('long')} line 1 is not part of an export: a line longer than 1 MiB`);
    const missing = await diff([path('good'), path('nothing-here')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      `wx-followers: ${path('nothing-here')} does not exist. diff takes two export files, such as the files export -o wrote (or - for one read from stdin).\n`,
    );
  });

  it.each([
    [
      'a text export cut in its last line',
      `${FORMATS.text(OLD)}${OLD[0]?.slice(0, 10)}`,
      "its last line does not end with a line break, as every export's does",
    ],
    [
      'an export without its last line break',
      FORMATS.ndjson(OLD).slice(0, -1),
      "its last line does not end with a line break, as every export's does",
    ],
    [
      'a CSV cut inside a quoted field',
      `openid,remark\n${OLD[0]},"a remark cut`,
      "its last line does not end with a line break, as every export's does",
    ],
    [
      'a CSV cut inside a quoted field, at a line break',
      `openid,remark\n${OLD[0]},"a remark\ncut\n`,
      'line 2 opens a quoted CSV field that never ends',
    ],
  ])('refuses %s with exit 2, naming the file as cut off', async (_name, text, why) => {
    const path = await files({ good: FORMATS.text(OLD), cut: text });
    for (const args of [
      [path('cut'), path('good')],
      [path('good'), path('cut')],
    ]) {
      const result = await diff(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`wx-followers: ${path('cut')} looks cut off: ${why}. Export it again, or give diff a whole export.\n`);
      expect(result.stdout.toString()).toBe('');
    }
  });

  it('reads the exports --with-info writes, whose remarks span lines, as the same list', async () => {
    const api = await fake({ followers: 700, pageSize: 300 });
    const dir = await tempDir();
    const env = cleanEnv(dir, { WX_ACCESS_TOKEN: FAKE_TOKEN });
    const exportTo = (file: string, args: readonly string[]): Promise<CliResult> =>
      runCli(['export', '--base-url', api.url, '-o', join(dir, file), ...args], { env });
    expect((await exportTo('plain.txt', [])).code).toBe(0);
    expect((await exportTo('details.csv', ['--with-info'])).code).toBe(0);
    expect((await exportTo('details.ndjson', ['--with-info', '-f', 'ndjson'])).code).toBe(0);
    for (const file of ['details.csv', 'details.ndjson']) {
      const result = await diff([join(dir, 'plain.txt'), join(dir, file)]);
      expect(result.stderr).toBe('');
      expect(result.stdout.toString()).toBe('');
    }
    const shorter = await runCli(['diff', join(dir, 'details.csv'), '-'], { stdin: FORMATS.text(allOpenids(api.followers).slice(1)) });
    expect(shorter.stdout.toString()).toBe(`-${api.followers.at(0)}\n`);
  });

  // A terminal made by util-linux's `script -qec`: macOS's takes other flags, Windows has none.
  it.runIf(onLinux)('prints the counts on stderr when it is a terminal', async () => {
    const path = await files({ old: FORMATS.text(OLD), new: FORMATS.text(NEW) });
    const result = await runProcess(
      'script',
      ['-qec', `"${process.execPath}" "${BIN}" diff ${path('old')} ${path('new')} > ${path('out')}`, '/dev/null'],
      {
        env: cleanEnv(await tempDir()),
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toContain('4 added, 2 removed.');
  });
});

describe('OpenidTable', () => {
  const bytes = (openid: string): [Buffer, number, number] => {
    // Inside a larger buffer, as the reader hands OpenIDs over.
    const buffer = Buffer.from(`xx${openid}yy`, 'latin1');
    return [buffer, 2, 2 + openid.length];
  };

  it('grows far past its first size and keeps the order of first sighting', () => {
    const table = new OpenidTable();
    const old = Array.from({ length: 200_000 }, (_, index) => `o${index.toString(36)}`);
    for (const openid of old.slice(0, 1_000)) table.addOld(...bytes(openid));
    // Room made with entries in place: they are placed again.
    table.reserve(300_000);
    for (const openid of old.slice(1_000)) table.addOld(...bytes(openid));
    for (const openid of old) if (!openid.endsWith('7')) expect(table.addNew(...bytes(openid))).toBe(false);
    expect(table.addNew(...bytes('brand-new'))).toBe(true);
    expect(table.addNew(...bytes('brand-new'))).toBe(false);
    // 'o7' and 'oa7' differ from 'o7a' only in length or order: all are told apart.
    expect([...table.removed()]).toEqual(old.filter((openid) => openid.endsWith('7')));
  });

  it('tells apart two OpenIDs whose hashes are equal', () => {
    // FNV-1a gives both 3098801067.
    const table = new OpenidTable();
    table.addOld(...bytes('o93vu'));
    expect(table.addNew(...bytes('ogtea'))).toBe(true);
    expect([...table.removed()]).toEqual(['o93vu']);
  });
});
