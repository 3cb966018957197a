import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids, everyNth, followerInfo, generatedFollowers, type FollowerList } from './fake-api/followers.js';
import { FAKE_TOKEN, type FakeApi, type FakeApiOptions, type RecordedCall } from './fake-api/server.js';
import { BIN, cleanEnv, exportFrom, onLinux, lines, resumeCursor, runCli, runProcess, tempDir, type CliResult } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const followers = generatedFollowers(30_000);
const tagged = everyNth(followers, 3, 1);
const blacklisted = everyNth(followers, 7, 2);

/** An account with three tags and a blacklist, each paged 1,000 at a time. */
function account(extra: FakeApiOptions = {}): FakeApiOptions {
  return {
    followers,
    pageSize: 1_000,
    tags: [
      { id: 2, name: '星标组', members: everyNth(followers, 1_000) },
      { id: 134, name: '北京', members: tagged },
      { id: 135, name: 'VIP, "gold"', members: everyNth(followers, 5_000) },
    ],
    blacklist: blacklisted,
    blacklistPageSize: 1_000,
    ...extra,
  };
}

interface Source {
  name: string;
  args: string[];
  members: FollowerList;
  path: string;
}

const SOURCES: Source[] = [
  { name: 'a tag', args: ['--tag', '134'], members: tagged, path: '/cgi-bin/user/tag/get' },
  { name: 'the blacklist', args: ['--blacklist'], members: blacklisted, path: '/cgi-bin/tags/members/getblacklist' },
];

function expected(format: string, openids: readonly string[]): string {
  if (format === 'csv') return `openid\n${lines(openids)}`;
  if (format === 'ndjson') return openids.map((openid) => `{"openid":"${openid}"}\n`).join('');
  return lines(openids);
}

function listCalls(api: FakeApi, path: string): RecordedCall[] {
  return api.calls.filter((call) => call.path === path);
}

/** Quota spent on the third page of a list, until the test says a new day has come. */
function quotaOnThirdPage(path: string): { options: FakeApiOptions; newDay: () => void } {
  let spent = true;
  let pages = 0;
  return {
    options: {
      fault: (call) => {
        if (call.path !== path) return undefined;
        pages += 1;
        return spent && pages >= 3 ? { kind: 'errcode', errcode: 45009 } : undefined;
      },
    },
    newDay: () => {
      spent = false;
    },
  };
}

describe.each(SOURCES)('export of $name', ({ args, members, path }) => {
  it.each(['text', 'csv', 'ndjson'])('writes it whole as %s', async (format) => {
    const api = await fake(account());
    const result = await exportFrom(api, [...args, '--format', format]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(expected(format, allOpenids(members)));
    // Paged by its own endpoint, its cursor in the POST body; the follower list is not touched.
    expect(listCalls(api, path).length).toBe(Math.ceil(members.size / 1_000) + 1);
    expect(listCalls(api, '/cgi-bin/user/get')).toHaveLength(0);
  });

  it('stops on a spent quota with the cursor, and --resume goes on from it', async () => {
    const quota = quotaOnThirdPage(path);
    const api = await fake(account(quota.options));
    const first = await exportFrom(api, [...args, '--format', 'csv']);
    expect(first.code).toBe(4);
    const cursor = resumeCursor(first.stderr);
    expect(cursor).toBe(members.at(1_999));
    quota.newDay();
    const callsBefore = api.calls.length;
    const second = await exportFrom(api, [...args, '--format', 'csv', '--resume', cursor]);
    expect(second.code).toBe(0);
    expect(first.stdout.toString() + second.stdout.toString()).toBe(expected('csv', allOpenids(members)));
    // The list's own cursor field in the POST body: next_openid for a tag, begin_openid for the blacklist.
    expect(Object.values(JSON.parse(api.calls[callsBefore]?.body ?? '{}') as object)).toContain(cursor);
  });

  it('goes on with --state after a stop, and stops at --limit', async () => {
    const quota = quotaOnThirdPage(path);
    const api = await fake(account(quota.options));
    const dir = await tempDir();
    const stateArgs = [...args, '--format', 'ndjson', '-o', join(dir, 'out.ndjson'), '--state', join(dir, 'state.json')];
    expect((await exportFrom(api, stateArgs)).code).toBe(4);
    quota.newDay();
    const second = await exportFrom(api, stateArgs);
    expect(second.code).toBe(0);
    expect(await readFile(join(dir, 'out.ndjson'), 'utf8')).toBe(expected('ndjson', allOpenids(members)));
    const limited = await exportFrom(api, [...args, '--limit', '1500']);
    expect(limited.code).toBe(0);
    expect(limited.stdout.toString()).toBe(lines(allOpenids(members).slice(0, 1_500)));
    expect(resumeCursor(limited.stderr)).toBe(members.at(1_499));
  });

  it('adds the details with --with-info', async () => {
    const api = await fake(account());
    const result = await exportFrom(api, [...args, '--with-info', '--format', 'ndjson']);
    expect(result.code).toBe(0);
    const rows = allOpenids(members).map((openid) => `${JSON.stringify(followerInfo(openid, followers.indexOf(openid)))}\n`);
    expect(result.stdout.toString()).toBe(rows.join(''));
  });
});

describe('export sources', () => {
  it('refuses --tag with --blacklist before any call', async () => {
    const api = await fake(account());
    const result = await exportFrom(api, ['--tag', '134', '--blacklist']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--tag and --blacklist do not go together/);
    expect(api.calls).toHaveLength(0);
  });

  it('refuses to continue a state of another list', async () => {
    const api = await fake(account());
    const dir = await tempDir();
    const stateArgs = ['-o', join(dir, 'out.txt'), '--state', join(dir, 'state.json'), '--limit', '1000'];
    expect((await exportFrom(api, ['--tag', '134', ...stateArgs])).code).toBe(0);
    const other = await exportFrom(api, ['--blacklist', ...stateArgs]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/unfinished export of the followers with tag 134, not of the blacklist/);
  });

  it('names the tags command when the tag does not exist (exit 2)', async () => {
    const api = await fake(account());
    const result = await exportFrom(api, ['--tag', '99']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no tag with this id \(errcode 45159.*wx-followers tags/);
  });
});

describe('tags', () => {
  async function tags(api: FakeApi, args: readonly string[]): Promise<CliResult> {
    return runCli(['tags', '--base-url', api.url, ...args], { env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }) });
  }

  it('writes tab-separated text when stdout is not a terminal, and CSV or NDJSON on request', async () => {
    const api = await fake(account());
    const text = await tags(api, []);
    expect(text.code).toBe(0);
    expect(text.stdout.toString()).toBe('2\t星标组\t30\n134\t北京\t10000\n135\tVIP, "gold"\t6\n');
    expect((await tags(api, ['--format', 'csv'])).stdout.toString()).toBe(
      'id,name,count\n2,星标组,30\n134,北京,10000\n135,"VIP, ""gold""",6\n',
    );
    expect((await tags(api, ['-f', 'ndjson'])).stdout.toString()).toBe(
      '{"id":2,"name":"星标组","count":30}\n{"id":134,"name":"北京","count":10000}\n{"id":135,"name":"VIP, \\"gold\\"","count":6}\n',
    );
    expect(api.calls.map((call) => `${call.method} ${call.path}`)).toEqual(Array(3).fill('GET /cgi-bin/tags/get'));
  });

  // A terminal made by util-linux's `script -qec`: macOS's takes other flags, Windows has none.
  it.runIf(onLinux)('draws an aligned table on a terminal, wide characters counted twice', async () => {
    const api = await fake(account());
    const result = await runProcess(
      'script',
      ['-qec', `stty cols 80 rows 24; "${process.execPath}" "${BIN}" tags --base-url ${api.url}`, '/dev/null'],
      {
        env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN, TERM: 'xterm-256color' }),
      },
    );
    expect(result.code).toBe(0);
    expect(result.stdout.toString().replaceAll('\r\n', '\n')).toBe(
      [
        ' ID  NAME         FOLLOWERS',
        `  2  星标组${' '.repeat(14)}30`,
        `134  北京${' '.repeat(12)}10,000`,
        `135  VIP, "gold"${' '.repeat(10)}6`,
        '',
      ].join('\n'),
    );
  });

  it('stops with the exit code of the error, as export does', async () => {
    const api = await fake(account({ fault: () => ({ kind: 'errcode', errcode: 45009 }) }));
    const result = await tags(api, []);
    expect(result.code).toBe(4);
    expect(result.stdout.toString()).toBe('');
  });
});
