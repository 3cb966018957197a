import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_TOKEN, startFakeApi, type FakeApi } from './fake-api/server.js';
import { cleanEnv, lines, runProcess, tempDir } from './helpers/cli.js';

const run = promisify(execFile);
const repo = new URL('..', import.meta.url).pathname;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

/** The package as a user gets it: `npm pack`, then `npm install -g` of the tarball. */
describe('the npm package', () => {
  let pack: PackResult;
  let prefix: string;
  let api: FakeApi;

  beforeAll(async () => {
    const packDir = await tempDir();
    // npm test has just built dist/; --ignore-scripts keeps the pack from building it again.
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: repo });
    const [packed] = JSON.parse(stdout) as PackResult[];
    if (packed === undefined) throw new Error(`npm pack said nothing: ${stdout}`);
    pack = packed;
    prefix = await tempDir();
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(packDir, pack.filename)], {
      cwd: packDir,
    });
    api = await startFakeApi({ followers: 12_000 });
  }, 180_000);

  afterAll(async () => {
    await api?.close();
  });

  it('holds the compiled code, the shim and both READMEs, and no tests, fixtures or TypeScript sources', () => {
    const paths = pack.files.map((file) => file.path);
    expect(paths).toContain('bin/wx-followers.js');
    expect(paths).toContain('dist/cli.js');
    expect(paths).toContain('README.md');
    expect(paths).toContain('README.zh-CN.md');
    expect(paths.filter((path) => !/^(bin|dist)\/|^(README(\.zh-CN)?\.md|package\.json|LICENSE)$/.test(path))).toEqual([]);
    expect(paths.filter((path) => path.endsWith('.ts'))).toEqual([]);
  });

  it('installs globally as a working wx-followers', async () => {
    const bin = join(prefix, 'bin', 'wx-followers');
    const env = cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN });
    const version = await runProcess(bin, ['--version'], { env });
    expect(version.code).toBe(0);
    expect(version.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const exported = await runProcess(bin, ['export', '--base-url', api.url], { env });
    expect(exported.code).toBe(0);
    expect(exported.stdout.toString()).toBe(lines(allOpenids(api.followers)));
  });
});
