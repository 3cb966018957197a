import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allOpenids } from './fake-api/followers.js';
import { FAKE_TOKEN, startFakeApi, type FakeApi } from './fake-api/server.js';
import { cleanEnv, lines, npmCommand, runProcess, tempDir } from './helpers/cli.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** npm, as a user's shell runs it; its stdout, or a failure with its stderr. */
async function npm(args: readonly string[], cwd: string): Promise<string> {
  const { command, args: commandArgs, shell } = npmCommand(args);
  const result = await runProcess(command, commandArgs, { cwd, shell, env: { ...process.env } as Record<string, string> });
  if (result.code !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.toString();
}

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
    const stdout = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], repo);
    const [packed] = JSON.parse(stdout) as PackResult[];
    if (packed === undefined) throw new Error(`npm pack said nothing: ${stdout}`);
    pack = packed;
    prefix = await tempDir();
    await npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(packDir, pack.filename)], packDir);
    api = await startFakeApi({ followers: 12_000 });
  }, 180_000);

  afterAll(async () => {
    await api?.close();
  });

  it('holds the compiled code, the shim and both READMEs, and no tests, fixtures or TypeScript sources', () => {
    const paths = pack.files.map((file) => file.path);
    expect(paths).toContain('bin/wx-followers.cjs');
    expect(paths).toContain('dist/main.cjs');
    expect(paths).toContain('dist/help.txt');
    expect(paths).toContain('README.md');
    expect(paths).toContain('README.zh-CN.md');
    expect(paths).toContain('CHANGELOG.md');
    expect(paths.filter((path) => !/^(bin|dist)\/|^(README(\.zh-CN)?\.md|CHANGELOG\.md|package\.json|LICENSE)$/.test(path))).toEqual([]);
    expect(paths.filter((path) => path.endsWith('.ts'))).toEqual([]);
  });

  it('installs globally as a working wx-followers', async () => {
    // npm puts a global bin in PREFIX/bin, and on Windows a .cmd shim in PREFIX itself.
    const windows = process.platform === 'win32';
    const bin = windows ? join(prefix, 'wx-followers.cmd') : join(prefix, 'bin', 'wx-followers');
    const env = cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN });
    const version = await runProcess(bin, ['--version'], { env, shell: windows });
    expect(version.code).toBe(0);
    expect(version.stdout.toString()).toMatch(/^\d+\.\d+\.\d+\n$/);
    const exported = await runProcess(bin, ['export', '--base-url', api.url], { env, shell: windows });
    expect(exported.code).toBe(0);
    expect(exported.stdout.toString()).toBe(lines(allOpenids(api.followers)));
  });

  it('runs no script on install, so that `npm ci --omit=dev` works in a clone without TypeScript', async () => {
    const { scripts } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const installScripts = ['preinstall', 'install', 'postinstall', 'prepare'].filter((name) => scripts[name] !== undefined);
    expect(installScripts).toEqual([]);
    expect(scripts['prepack']).toBe('npm run build');
  });
});
