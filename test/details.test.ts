import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids, followerInfo, generatedFollowers, type FollowerList } from './fake-api/followers.js';
import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN, type FakeApi, type FakeApiOptions, type RecordedCall } from './fake-api/server.js';
import { cleanEnv, exportFrom, resumeCursor, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

const HEADER = 'openid,subscribe,subscribe_time,unionid,language,remark,groupid,tagid_list,subscribe_scene,qr_scene,qr_scene_str\n';
const COLUMNS = HEADER.trim().split(',');

/** A CSV row written the long way, to hold the tool's output against. */
function csvRow(info: Record<string, unknown>): string {
  const cells = COLUMNS.map((column) => {
    const value = info[column];
    let text = '';
    if (column === 'subscribe_time' && typeof value === 'number') text = new Date(value * 1000).toISOString().replace('.000Z', 'Z');
    else if (Array.isArray(value)) text = value.join(';');
    else if (value !== undefined) text = String(value);
    if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  });
  return `${cells.join(',')}\n`;
}

function expectedCsv(list: FollowerList, from = 0, to = list.size): string {
  return allOpenids(list)
    .slice(from, to)
    .map((openid, offset) => csvRow(followerInfo(openid, from + offset)))
    .join('');
}

function expectedNdjson(list: FollowerList, from = 0, to = list.size): string {
  return allOpenids(list)
    .slice(from, to)
    .map((openid, offset) => `${JSON.stringify(followerInfo(openid, from + offset))}\n`)
    .join('');
}

function detailCalls(api: FakeApi): RecordedCall[] {
  return api.calls.filter((call) => call.path === '/cgi-bin/user/info/batchget');
}

/** The OpenIDs a batchget call asked for. */
function asked(call: RecordedCall): string[] {
  const body = JSON.parse(call.body) as { user_list: { openid: string }[] };
  return body.user_list.map((entry) => entry.openid);
}

/** 45009 for every batch from the follower at `index` of generatedFollowers on, until a new day. */
function detailsQuotaSpentFrom(index: number): { fault: NonNullable<FakeApiOptions['fault']>; newDay: () => void } {
  let spent = true;
  return {
    fault: (call) => {
      if (!spent || call.path !== '/cgi-bin/user/info/batchget') return undefined;
      const first = generatedFollowers(index + 1).indexOf(asked(call)[0] ?? '');
      return first < 0 || first >= index ? { kind: 'errcode', errcode: 45009 } : undefined;
    },
    newDay: () => {
      spent = false;
    },
  };
}

describe('export --with-info', () => {
  it('writes CSV rows byte-exact across pages, in the list order, with the formula guard', async () => {
    const api = await fake({ followers: 330, pageSize: 120 });
    const result = await exportFrom(api, ['--with-info', '--format', 'csv']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const csv = result.stdout.toString();
    expect(csv).toBe(HEADER + expectedCsv(api.followers));
    // Rows worked out by hand: a formula remark, a follower who left, a tab and a CR start.
    expect(csv).toContain(
      `\noWx-Fake_0000000000000000004,1,2017-07-14T06:40:28Z,uWx-Union_4,en,"'=HYPERLINK(""http://evil.example"",""click"")",0,,ADD_SCENE_SEARCH,0,\n` +
        'oWx-Fake_0000000000000000005,0,,,,,,,,,\n',
    );
    expect(csv).toContain(
      '\noWx-Fake_0000000000000000009,1,2017-07-14T11:41:03Z,,zh_CN,\'\tindented,0,2;104,ADD_SCENE_QR_CODE,9,"campaign,2"\n',
    );
    expect(csv).toContain(
      '\noWx-Fake_000000000000000000a,1,2017-07-14T12:41:10Z,uWx-Union_a,en,"\'\rreturned",0,2;100,ADD_SCENE_PROFILE_CARD,0,\n',
    );
    // Pages of 120 are asked for as 100 + 20; the last page of 90 as one batch. In any order: the
    // calls in flight reach the server over several connections, whichever comes first.
    expect(
      detailCalls(api)
        .map((call) => asked(call).length)
        .sort((a, b) => a - b),
    ).toEqual([20, 20, 90, 100, 100]);
  });

  it('writes NDJSON as the API gave each follower, without the guard', async () => {
    const api = await fake({ followers: 330, pageSize: 120 });
    const result = await exportFrom(api, ['--with-info', '--format', 'ndjson', '--lang', 'en']);
    expect(result.code).toBe(0);
    const ndjson = result.stdout.toString();
    expect(ndjson).toBe(expectedNdjson(api.followers));
    expect(ndjson.split('\n')[4]).toBe(
      '{"subscribe":1,"openid":"oWx-Fake_0000000000000000004","language":"en","subscribe_time":1500014428,"unionid":"uWx-Union_4",' +
        '"remark":"=HYPERLINK(\\"http://evil.example\\",\\"click\\")","groupid":0,"tagid_list":[],"subscribe_scene":"ADD_SCENE_SEARCH","qr_scene":0,"qr_scene_str":""}',
    );
    expect(ndjson.split('\n')[5]).toBe('{"subscribe":0,"openid":"oWx-Fake_0000000000000000005"}');
    const langs = detailCalls(api).flatMap((call) =>
      (JSON.parse(call.body) as { user_list: { lang: string }[] }).user_list.map((entry) => entry.lang),
    );
    expect(new Set(langs)).toEqual(new Set(['en']));
  });

  it('writes CSV by default, to a file as well', async () => {
    const api = await fake({ followers: 250 });
    const file = join(await tempDir(), 'details.csv');
    const result = await exportFrom(api, ['--with-info', '-o', file]);
    expect(result.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(HEADER + expectedCsv(api.followers));
  });

  it('asks for no details past --limit', async () => {
    const api = await fake({ followers: 250 });
    const result = await exportFrom(api, ['--with-info', '--limit', '150']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(HEADER + expectedCsv(api.followers, 0, 150));
    expect(detailCalls(api).map((call) => asked(call).length)).toEqual([100, 50]);
    expect(result.stderr).toContain(`--resume ${api.followers.at(149)}`);
  });

  it('keeps the list order when later batches answer first, and within a batch', async () => {
    // Within each page of 1,000, the first batch answers last and the last first.
    const api = await fake({
      followers: 2_000,
      pageSize: 1_000,
      detailsReversed: true,
      fault: (call) => {
        if (call.path !== '/cgi-bin/user/info/batchget') return undefined;
        const position = api.followers.indexOf(asked(call)[0] ?? '') % 1_000;
        return { kind: 'slow', delayMs: (1_000 - position) / 4 };
      },
    });
    const result = await exportFrom(api, ['--with-info', '--concurrency', '10']);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(HEADER + expectedCsv(api.followers));
  });

  it('retries a failed batch from the same batch', async () => {
    const failures = [{ kind: 'errcode', errcode: -1 }, { kind: 'reset' }, { kind: 'status', status: 502 }] as const;
    let failed = 0;
    const api = await fake({
      followers: 600,
      fault: (call) => {
        if (call.path !== '/cgi-bin/user/info/batchget' || !asked(call).includes(api.followers.at(250))) return undefined;
        return failures[failed++];
      },
    });
    const result = await exportFrom(api, ['--with-info', '--format', 'ndjson']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(expectedNdjson(api.followers));
    const third = detailCalls(api).filter((call) => asked(call)[0] === api.followers.at(200));
    expect(third).toHaveLength(4);
    expect(new Set(third.map((call) => call.body)).size).toBe(1);
  });

  it('renews an expired token under concurrent batches and loses no row', async () => {
    // A lifetime of three rounds of --concurrency: a renewed token must outlive the calls already
    // in flight, or the renewing call's own retry could be refused at once (exit 3, by design).
    const api = await fake({ followers: 5_000, pageSize: 1_000, tokenLifetimeCalls: 24 });
    const result = await runCli(['export', '--base-url', api.url, '--with-info', '--format', 'ndjson'], {
      env: cleanEnv(await tempDir(), { WX_APPID: FAKE_APPID, WX_SECRET: FAKE_SECRET }),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe(expectedNdjson(api.followers));
    expect(api.calls.filter((call) => call.path === '/cgi-bin/stable_token').length).toBeGreaterThanOrEqual(3);
  });

  it('stops on a spent quota at the last row written, and --resume goes on with no row lost or repeated', async () => {
    const quota = detailsQuotaSpentFrom(1_700);
    const api = await fake({ followers: 2_500, pageSize: 1_000, fault: quota.fault });
    const first = await exportFrom(api, ['--with-info']);
    expect(first.code).toBe(4);
    expect(first.stderr).toMatch(/daily quota/);
    expect(first.stdout.toString()).toBe(HEADER + expectedCsv(api.followers, 0, 1_700));
    const cursor = resumeCursor(first.stderr);
    expect(cursor).toBe(api.followers.at(1_699));
    quota.newDay();
    const second = await exportFrom(api, ['--with-info', '--resume', cursor]);
    expect(second.code).toBe(0);
    expect(first.stdout.toString() + second.stdout.toString()).toBe(HEADER + expectedCsv(api.followers));
  });

  it('with --state, goes on from a stop in the middle of a page', async () => {
    const quota = detailsQuotaSpentFrom(1_300);
    const api = await fake({ followers: 2_500, pageSize: 1_000, fault: quota.fault });
    const dir = await tempDir();
    const args = ['--with-info', '--format', 'ndjson', '-o', join(dir, 'out.ndjson'), '--state', join(dir, 'state.json')];
    const first = await exportFrom(api, args);
    expect(first.code).toBe(4);
    expect(first.stderr).toContain(`(it holds --resume ${api.followers.at(1_299)})`);
    expect(await readFile(join(dir, 'out.ndjson.partial'), 'utf8')).toBe(expectedNdjson(api.followers, 0, 1_300));
    quota.newDay();
    const second = await exportFrom(api, args);
    expect(second.code).toBe(0);
    expect(await readFile(join(dir, 'out.ndjson'), 'utf8')).toBe(expectedNdjson(api.followers));
    // The second run asked for no detail twice.
    const secondRunCalls = detailCalls(api).filter((call) => api.followers.indexOf(asked(call)[0] ?? '') < 1_300);
    expect(secondRunCalls.length).toBe(13);
  });

  it('with --state, refuses to continue an export without details with them', async () => {
    const api = await fake({ followers: 2_500, pageSize: 1_000 });
    const dir = await tempDir();
    const args = ['-o', join(dir, 'out.csv'), '--state', join(dir, 'state.json'), '--format', 'csv'];
    expect((await exportFrom(api, [...args, '--limit', '1000'])).code).toBe(0);
    const mixed = await exportFrom(api, [...args, '--with-info']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/unfinished export of the follower list, not of the follower list with details/);
  });

  it('refuses --format text, and --lang or --concurrency without --with-info, before any call', async () => {
    const api = await fake({ followers: 10 });
    const dir = await tempDir();
    const text = await exportFrom(api, ['--with-info', '--format', 'text', '-o', join(dir, 'out'), '--state', join(dir, 'state.json')]);
    expect(text.code).toBe(2);
    expect(text.stderr).toMatch(/--format csv or --format ndjson/);
    // Refused before a state is begun that no later run could continue.
    expect(await readdir(dir)).toEqual([]);
    const lang = await exportFrom(api, ['--lang', 'en']);
    expect(lang.code).toBe(2);
    expect(lang.stderr).toMatch(/--lang goes with --with-info/);
    const tooMany = await exportFrom(api, ['--with-info', '--concurrency', '33']);
    expect(tooMany.code).toBe(2);
    const badLang = await exportFrom(api, ['--with-info', '--lang', 'fr']);
    expect(badLang.code).toBe(2);
    expect(badLang.stderr).toMatch(/zh_CN, zh_TW, en/);
    expect(api.calls).toHaveLength(0);
  });
});

describe('the fake batchget', () => {
  it('refuses more than 100 OpenIDs, as the real one does', async () => {
    const api = await fake({ followers: 200 });
    const post = async (count: number): Promise<Record<string, unknown>> => {
      const user_list = allOpenids(api.followers)
        .slice(0, count)
        .map((openid) => ({ openid, lang: 'zh_CN' }));
      const response = await fetch(`${api.url}/cgi-bin/user/info/batchget?access_token=${FAKE_TOKEN}`, {
        method: 'POST',
        body: JSON.stringify({ user_list }),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    expect((await post(101))['errcode']).toBe(40032);
    expect((await post(100))['user_info_list']).toHaveLength(100);
  });
});
