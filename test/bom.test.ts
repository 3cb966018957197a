import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOpenids, generatedFollowers } from './fake-api/followers.js';
import { FAKE_TOKEN } from './fake-api/server.js';
import { cleanEnv, exportFrom, lines, runCli, tempDir } from './helpers/cli.js';
import { useFakes } from './helpers/fakes.js';

const fake = useFakes();

/** The UTF-8 byte order mark, as bytes: what Excel looks for. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function boms(bytes: Buffer): number {
  return bytes.toString('utf8').split('\uFEFF').length - 1;
}

describe('--bom', () => {
  it('puts a UTF-8 BOM before the header of an exported CSV, and nothing else changes', async () => {
    const api = await fake({ followers: 3 });
    const plain = await exportFrom(api, ['-f', 'csv']);
    const withBom = await exportFrom(api, ['-f', 'csv', '--bom']);
    expect(withBom.code).toBe(0);
    expect(withBom.stdout.subarray(0, 3)).toEqual(BOM);
    expect(withBom.stdout.subarray(3)).toEqual(plain.stdout);
    expect(plain.stdout.toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
  });

  it('writes one BOM only into a file that --state carries over several runs', async () => {
    const api = await fake({ followers: 2_500, pageSize: 1_000 });
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const args = ['-f', 'csv', '--bom', '-o', file, '--state', join(dir, 'followers.state'), '--limit', '1000'];
    for (let run = 0; run < 3; run += 1) expect((await exportFrom(api, args)).code).toBe(0);
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 3)).toEqual(BOM);
    expect(boms(bytes)).toBe(1);
    expect(bytes.subarray(3).toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
  });

  it('adds none to an export that --resume continues', async () => {
    const api = await fake({ followers: 2_500, pageSize: 1_000 });
    const dir = await tempDir();
    const file = join(dir, 'followers.csv');
    const first = await exportFrom(api, ['-f', 'csv', '--bom', '-o', file, '--limit', '1000']);
    expect(first.code).toBe(0);
    const resumed = await exportFrom(api, ['-f', 'csv', '--bom', '-o', file, '--resume', api.followers.at(999) as string]);
    expect(resumed.code).toBe(0);
    const bytes = await readFile(file);
    expect(boms(bytes)).toBe(1);
    expect(bytes.subarray(3).toString()).toBe(`openid\n${lines(allOpenids(api.followers))}`);
    const onStdout = await exportFrom(api, ['-f', 'csv', '--bom', '--resume', api.followers.at(999) as string]);
    expect(onStdout.stdout.toString()).toBe(lines(allOpenids(api.followers).slice(1_000)));
  });

  it('goes with the CSV of tags and of diff, and diff reads it back', async () => {
    const api = await fake({ followers: 3, tags: [{ id: 2, name: '星标组', members: generatedFollowers(0) }] });
    const tags = await runCli(['tags', '--base-url', api.url, '-f', 'csv', '--bom'], {
      env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN }),
    });
    expect(tags.code).toBe(0);
    expect(tags.stdout).toEqual(Buffer.concat([BOM, Buffer.from('id,name,count\n2,星标组,0\n')]));

    const dir = await tempDir();
    const old = join(dir, 'old.csv');
    expect((await exportFrom(api, ['-f', 'csv', '--bom', '-o', old])).code).toBe(0);
    const [first, ...rest] = allOpenids(generatedFollowers(4));
    const diff = await runCli(['diff', '-f', 'csv', '--bom', old, '-'], { stdin: lines([...rest]) });
    expect(diff.code).toBe(0);
    expect(diff.stdout).toEqual(Buffer.concat([BOM, Buffer.from(`change,openid\nadded,${rest.at(-1)}\nremoved,${first}\n`)]));
  });

  it('is refused with text and NDJSON, whose readers would take it for data', async () => {
    const api = await fake({ followers: 3 });
    for (const args of [['--bom'], ['-f', 'ndjson', '--bom']]) {
      const result = await exportFrom(api, args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--bom goes with --format csv/);
    }
    const diff = await runCli(['diff', '--bom', '-', '-']);
    expect(diff.stderr).toMatch(/--bom goes with --format csv/);
    expect(api.calls).toHaveLength(0);
  });

  it('is refused when the --state file goes on with NDJSON, and the state is left unlocked', async () => {
    const api = await fake({ followers: 2_500, pageSize: 1_000 });
    const dir = await tempDir();
    const state = join(dir, 'followers.state');
    const args = ['-o', join(dir, 'followers.ndjson'), '--state', state];
    expect((await exportFrom(api, ['-f', 'ndjson', '--limit', '1000', ...args])).code).toBe(0);
    const calls = api.calls.length;
    const result = await exportFrom(api, ['--bom', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--bom goes with --format csv \(for Excel\); ndjson readers/);
    expect(api.calls).toHaveLength(calls);
    await expect(stat(`${state}.lock`)).rejects.toThrow();
    expect((await exportFrom(api, args)).code).toBe(0);
  });
});
