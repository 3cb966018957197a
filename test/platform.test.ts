import { promises as fsPromises } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WxError } from '../src/errors.js';
import { colorEnabled, type IOStreams } from '../src/console/streams.js';
import { renameRetrying, samePath } from '../src/out/platform-fs.js';
import { FileOutput } from '../src/out/output.js';
import { Checkpoint, planState, type ExportKind } from '../src/out/state.js';
import { tempDir } from './helpers/cli.js';

/** The plan's read of the state file, then the run's lock on it: what an export does. */
async function openCheckpoint(path: string, output: string, kind: ExportKind): Promise<Checkpoint> {
  return Checkpoint.take(await planState(path, output, kind));
}

/** Windows, or macOS, as the code sees it: these tests run on any system. */
function pretendPlatform(platform: NodeJS.Platform): void {
  const real = Object.getOwnPropertyDescriptor(process, 'platform');
  Object.defineProperty(process, 'platform', { value: platform, configurable: true });
  restores.push(() => {
    if (real !== undefined) Object.defineProperty(process, 'platform', real);
  });
}

const realRename = fsPromises.rename.bind(fsPromises);

/** fs.rename answering `code` for its first `times` calls (Infinity: always), as a held file makes it. */
function renameFails(code: string, times: number): { calls: () => number } {
  let calls = 0;
  const spy = vi.spyOn(fsPromises, 'rename').mockImplementation(async (from, to) => {
    calls += 1;
    if (calls <= times) throw Object.assign(new Error(`${code}: operation not permitted, rename`), { code });
    return realRename(from, to);
  });
  restores.push(() => spy.mockRestore());
  return { calls: () => calls };
}

const restores: (() => void)[] = [];
afterEach(() => {
  for (const restore of restores.splice(0).reverse()) restore();
});

const KIND: ExportKind = {
  format: 'csv',
  defaultFormat: 'text',
  list: 'follower list',
  withInfo: false,
  account: { appid: 'wx1234567890abcdef' },
};

describe('samePath', () => {
  it('compares as the platform does: case-insensitively on Windows and macOS, exactly elsewhere', () => {
    expect(samePath('C:\\Exports\\Followers.csv', 'c:\\exports\\FOLLOWERS.CSV', 'win32')).toBe(true);
    expect(samePath('C:\\Exports\\a.csv', 'C:/Exports/a.csv', 'win32')).toBe(true);
    expect(samePath('C:\\Exports\\a.csv', 'C:\\Exports\\b.csv', 'win32')).toBe(false);
    expect(samePath('/Users/li/Followers.csv', '/users/li/followers.csv', 'darwin')).toBe(true);
    // APFS ignores the Unicode normalization too: é composed and decomposed are one name.
    expect(samePath('/Users/li/caf\u00e9.csv', '/Users/li/cafe\u0301.csv', 'darwin')).toBe(true);
    expect(samePath('/home/li/Followers.csv', '/home/li/followers.csv', 'linux')).toBe(false);
    expect(samePath('/home/li/followers.csv', '/home/li/followers.csv', 'linux')).toBe(true);
  });
});

describe('renames on Windows', () => {
  it('are tried again while a scanner holds the file, and fail at once elsewhere', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a'), 'data');
    pretendPlatform('win32');
    const held = renameFails('EBUSY', 3);
    await renameRetrying(join(dir, 'a'), join(dir, 'b'));
    expect(held.calls()).toBe(4);
    expect(await readFile(join(dir, 'b'), 'utf8')).toBe('data');

    const output = await FileOutput.open(join(dir, 'followers.txt'), { kind: 'new' });
    await output.write(['o1\n']);
    renameFails('EACCES', 2);
    await output.finish();
    expect(await readFile(join(dir, 'followers.txt'), 'utf8')).toBe('o1\n');

    const onLinux = renameFails('EPERM', 1);
    await expect(renameRetrying(join(dir, 'b'), join(dir, 'c'), 'linux')).rejects.toMatchObject({ code: 'EPERM' });
    expect(onLinux.calls()).toBe(1);
  });

  it('leave the complete export in FILE.partial when FILE stays open in another program, and say so', async () => {
    const dir = await tempDir();
    const path = join(dir, 'followers.csv');
    await writeFile(path, 'the old export, open in Excel\n');
    const output = await FileOutput.open(path, { kind: 'new' });
    await output.write(['openid\n', 'o1\no2\n']);
    pretendPlatform('win32');
    renameFails('EPERM', Number.POSITIVE_INFINITY);
    const failure = await output.finish().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WxError);
    expect((failure as WxError).message).toBe(
      `Could not replace ${path}: it is open in another program, or read-only (EPERM). The complete export is in ${path}.partial (kept): close ${path} there (or make it writable), then rename ${path}.partial to ${path}.`,
    );
    await output.abandon();
    expect(await readFile(`${path}.partial`, 'utf8')).toBe('openid\no1\no2\n');
    expect(await readFile(path, 'utf8')).toBe('the old export, open in Excel\n');

    // An export of an empty list is complete too: its empty FILE.partial stays as well.
    const empty = await FileOutput.open(join(dir, 'empty.txt'), { kind: 'new' });
    await expect(empty.finish()).rejects.toThrow(/open in another program/);
    await empty.abandon();
    expect(await readFile(join(dir, 'empty.txt.partial'), 'utf8')).toBe('');
  });

  it('let the state file be written through a passing EPERM', async () => {
    const dir = await tempDir();
    pretendPlatform('win32');
    renameFails('EPERM', 2);
    const checkpoint = await openCheckpoint(join(dir, 'followers.state'), join(dir, 'followers.csv'), KIND);
    await checkpoint.release();
    expect(JSON.parse(await readFile(join(dir, 'followers.state'), 'utf8'))).toMatchObject({
      output: join(dir, 'followers.csv'),
      done: false,
    });
  });
});

describe('the output a state file belongs to', () => {
  async function unfinishedState(): Promise<string> {
    const dir = await tempDir();
    const checkpoint = await openCheckpoint(join(dir, 'followers.state'), join(dir, 'Followers.csv'), KIND);
    await checkpoint.record('o1', 1, 9, undefined);
    await checkpoint.release();
    return dir;
  }

  it('is the same file on Windows whatever the case of its name', async () => {
    const dir = await unfinishedState();
    pretendPlatform('win32');
    const checkpoint = await openCheckpoint(join(dir, 'followers.state'), join(dir, 'FOLLOWERS.CSV'), KIND);
    expect(checkpoint.start.cursor).toBe('o1');
    await checkpoint.release();
  });

  it('is another file on Linux when the case differs', async () => {
    const dir = await unfinishedState();
    pretendPlatform('linux');
    await expect(openCheckpoint(join(dir, 'followers.state'), join(dir, 'FOLLOWERS.CSV'), KIND)).rejects.toThrow(
      /belongs to an unfinished export into/,
    );
    await expect(stat(join(dir, 'followers.state.lock'))).rejects.toThrow();
  });
});

describe('colour', () => {
  const io = (env: NodeJS.ProcessEnv, stderrIsTTY: boolean): IOStreams => ({ env, stderrIsTTY }) as IOStreams;

  it('follows FORCE_COLOR first, then NO_COLOR, then whether stderr is a terminal', () => {
    expect(colorEnabled(io({}, true))).toBe(true);
    expect(colorEnabled(io({}, false))).toBe(false);
    expect(colorEnabled(io({ NO_COLOR: '1' }, true))).toBe(false);
    expect(colorEnabled(io({ NO_COLOR: '' }, true))).toBe(true);
    expect(colorEnabled(io({ FORCE_COLOR: '0' }, true))).toBe(false);
    expect(colorEnabled(io({ FORCE_COLOR: 'false' }, true))).toBe(false);
    expect(colorEnabled(io({ FORCE_COLOR: '1' }, false))).toBe(true);
    expect(colorEnabled(io({ FORCE_COLOR: '1', NO_COLOR: '1' }, true))).toBe(true);
    expect(colorEnabled(io({ FORCE_COLOR: '', NO_COLOR: '1' }, true))).toBe(false);
  });
});
