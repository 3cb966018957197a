/**
 * The export's plan, in-process (as gh tests a command's options through its runF): flags,
 * environment and config become one checked plan, or a usage error, and nothing is created,
 * locked or requested on the way.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planExport, type ExportFlags } from '../src/plan/export.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, usageOf } from './helpers/io.js';

const TOKEN = 'plan-test-token';

async function plan(flags: Partial<ExportFlags>, env: NodeJS.ProcessEnv = {}) {
  const configDir = await tempDir();
  const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: configDir, HOME: configDir, ...env });
  return planExport({ progress: false, accessToken: TOKEN, ...flags }, io);
}

async function usageMessage(flags: Partial<ExportFlags>, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return usageOf(plan(flags, env));
}

describe('planExport', () => {
  it('plans stdout, text, the follower list and the default connection when given only a token', async () => {
    const planned = await plan({});
    expect(planned).toMatchObject({
      list: { kind: 'followers' },
      format: 'text',
      bom: false,
      details: undefined,
      resume: undefined,
      limit: undefined,
      output: { kind: 'stdout' },
      state: undefined,
    });
    expect(planned.connection.baseUrl.href).toBe('https://api.weixin.qq.com/');
    expect(planned.connection).toMatchObject({ timeoutMs: 30_000, retries: 5, proxy: undefined });
    expect(planned.connection.credentials.token?.value).toBe(TOKEN);
  });

  it('takes --with-info as csv by default, with its language and concurrency', async () => {
    expect(await plan({ withInfo: true, lang: 'en', concurrency: '4' })).toMatchObject({
      format: 'csv',
      details: { lang: 'en', concurrency: 4 },
    });
    expect((await plan({ withInfo: true, format: 'ndjson' })).details).toEqual({ lang: 'zh_CN', concurrency: 8 });
  });

  it.each([
    [{ tag: '134' }, { kind: 'tag', tagid: 134 }],
    [{ blacklist: true }, { kind: 'blacklist' }],
    [{}, { kind: 'followers' }],
  ])('chooses the list of %o', async (flags, list) => {
    expect((await plan(flags)).list).toEqual(list);
  });

  it.each<[Partial<ExportFlags>, RegExp]>([
    [{ format: 'xml' }, /--format must be one of text, csv, ndjson/],
    [{ withInfo: true, format: 'text' }, /--with-info writes --format csv or --format ndjson/],
    [{ lang: 'en' }, /--lang goes with --with-info/],
    [{ concurrency: '2' }, /--concurrency goes with --with-info/],
    [{ withInfo: true, concurrency: '33' }, /--concurrency is too large: it is at most 32/],
    [{ bom: true }, /--bom goes with --format csv/],
    [{ bom: true, format: 'ndjson' }, /--bom goes with --format csv/],
    [{ tag: '1', blacklist: true }, /--tag and --blacklist do not go together/],
    [{ limit: '0' }, /--limit takes a whole number greater than 0/],
    [{ resume: 'not an openid' }, /--resume takes an OpenID/],
    [{ state: 's.json' }, /--state needs --output/],
    [{ state: 's.json', output: 'o.txt', resume: 'oABC' }, /--state and --resume do not go together/],
    [{ timeout: 'abc' }, /--timeout takes a whole number greater than 0/],
    [{ timeout: '2147483648' }, /--timeout is too large/],
    [{ retries: '101' }, /--retries is too large: it is at most 100/],
    [{ baseUrl: 'http://api.example.com' }, /must use https:\/\//],
    [{ proxy: 'socks5://127.0.0.1:1080' }, /only http:\/\/ and https:\/\/ proxies are supported/],
    [{ accessToken: undefined }, /No credentials/],
  ])('refuses %o with exit 2', async (flags, message) => {
    expect(await usageMessage(flags)).toMatch(message);
  });

  it('refuses a bad --timeout before the state file or the output is made, so that a corrected run is not refused', async () => {
    // The defect of issue 21: the state used to be written (format text) before --timeout was read.
    const dir = await tempDir();
    const flags = { output: join(dir, 'out.txt'), state: join(dir, 's.json') };
    expect(await usageMessage({ ...flags, timeout: 'abc' })).toMatch(/--timeout/);
    expect(await readdir(dir)).toEqual([]);
    const corrected = await plan({ ...flags, format: 'ndjson' });
    expect(corrected.format).toBe('ndjson');
    expect(corrected.state?.fresh?.format).toBe('ndjson');
    expect(await readdir(dir)).toEqual([]);
  });

  it('reads an unfinished state without locking or writing it, and continues in its format', async () => {
    const dir = await tempDir();
    const output = join(dir, 'out.csv');
    await writeFile(`${output}.partial`, 'openid\noA\noB\n');
    const state = {
      version: 1,
      output,
      format: 'csv',
      list: 'follower list',
      withInfo: false,
      cursor: 'oB',
      written: 2,
      outputBytes: 13,
      startedAt: 'then',
      updatedAt: 'then',
      done: false,
    };
    await writeFile(join(dir, 's.json'), JSON.stringify(state));
    const planned = await plan({ output, state: join(dir, 's.json') });
    expect(planned).toMatchObject({
      format: 'csv',
      resume: 'oB',
      writtenBefore: 2,
      output: { kind: 'file', opening: { kind: 'continue', bytes: 13 } },
    });
    expect((await readdir(dir)).sort()).toEqual(['out.csv.partial', 's.json']);
    expect(await usageMessage({ output, state: join(dir, 's.json'), format: 'text' })).toMatch(/would mix two formats/);
  });

  it.each([
    ['written', -5],
    ['outputBytes', -1],
    ['written', 1.5],
    ['total', -3],
  ])('refuses a hand-edited state whose %s is %d, as not a state of the tool', async (field, value) => {
    const dir = await tempDir();
    const output = join(dir, 'out.txt');
    await writeFile(`${output}.partial`, 'oA\noB\n');
    const state = {
      version: 1,
      output,
      format: 'text',
      cursor: 'oB',
      written: 2,
      outputBytes: 6,
      startedAt: 'then',
      updatedAt: 'then',
      done: false,
    };
    await writeFile(join(dir, 's.json'), JSON.stringify({ ...state, [field]: value }));
    expect(await usageMessage({ output, state: join(dir, 's.json') })).toMatch(/is not a wx-followers state \(bad (counts|total)\)/);
  });

  it('checks that the file a --resume continues ends with it, and says which OpenID it ends with', async () => {
    const dir = await tempDir();
    const output = join(dir, 'out.txt');
    await writeFile(`${output}.partial`, 'oA\noB\n');
    expect((await plan({ output, resume: 'oB' })).output).toMatchObject({ kind: 'file', opening: { kind: 'resume' } });
    expect(await usageMessage({ output, resume: 'oA' })).toMatch(/ends with OpenID oB, not oA/);
    expect(await usageMessage({ output, resume: 'oA', format: 'csv' })).toMatch(/continuing it would mix the two/);
  });

  it('takes --timeout, --retries and --base-url from flags before the environment', async () => {
    const planned = await plan(
      { timeout: '1500', retries: '0', baseUrl: 'http://127.0.0.1:9' },
      { WX_API_BASE_URL: 'https://elsewhere.example' },
    );
    expect(planned.connection).toMatchObject({ timeoutMs: 1500, retries: 0 });
    expect(planned.connection.baseUrl.origin).toBe('http://127.0.0.1:9');
    expect((await plan({}, { WX_API_BASE_URL: 'https://sh.api.weixin.qq.com' })).connection.baseUrl.host).toBe('sh.api.weixin.qq.com');
  });
});
