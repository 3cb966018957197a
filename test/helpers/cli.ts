import { spawn } from 'node:child_process';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { FAKE_TOKEN } from '../fake-api/server.js';

export const BIN = fileURLToPath(new URL('../../bin/wx-followers.cjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface CliRun {
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
  /** Through the shell: how Windows runs a `.cmd` shim (npm's, or an installed bin's). */
  shell?: boolean;
  /** Stopped by permission bits even when the tests run as root (see `unprivileged`). */
  unprivileged?: boolean;
}

/**
 * What needs a terminal made by util-linux's `script -qec` (macOS's `script` takes other
 * flags, Windows has none) or Linux's /dev/full is skipped elsewhere.
 */
export const onLinux = process.platform === 'linux';
/** Tests that pipe through `bash` (`| head -1`) or send POSIX signals to a child: not on Windows. */
export const onPosix = process.platform !== 'win32';

/** Mode 0600; Windows has no file modes (the user profile's ACL protects the file there). */
export async function expectOwnerOnly(path: string): Promise<void> {
  const { mode } = await stat(path);
  if (process.platform !== 'win32') expect(mode & 0o777).toBe(0o600);
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'wx-followers-test-'));
}

/**
 * An environment with nothing of the developer's: no WX_ variables, and a config store of the
 * test's own, so that no test reads or writes a real config.
 */
export function cleanEnv(configDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: configDir,
    // Windows: its networking needs SystemRoot, a .cmd shim needs ComSpec, and the profile
    // folders stand in for HOME.
    ...(process.platform === 'win32' ? windowsEnv(configDir) : {}),
    WX_FOLLOWERS_CONFIG_DIR: configDir,
    // Backoff, Retry-After and the wait for the next minute, a thousand times shorter.
    WX_FOLLOWERS_DELAY_SCALE: '0.001',
    // Inside the run's own temporary root (test/global-setup.ts), which marks its processes too.
    TMPDIR: tmpdir(),
    ...(process.env['WX_FOLLOWERS_TEST_ROOT'] === undefined ? {} : { WX_FOLLOWERS_TEST_ROOT: process.env['WX_FOLLOWERS_TEST_ROOT'] }),
    ...extra,
  };
}

function windowsEnv(configDir: string): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['SystemRoot', 'SystemDrive', 'ComSpec', 'PATHEXT', 'TEMP', 'TMP', 'WINDIR']) {
    const value = process.env[name];
    if (value !== undefined) kept[name] = value;
  }
  return { ...kept, USERPROFILE: configDir, APPDATA: configDir, LOCALAPPDATA: configDir };
}

/**
 * `npm` as a child: npm's own script under this Node when npm runs the tests (npm_execpath),
 * else the `npm` on PATH, through the shell on Windows where it is npm.cmd.
 */
export function npmCommand(args: readonly string[]): { command: string; args: string[]; shell: boolean } {
  const npmScript = process.env['npm_execpath'];
  if (npmScript !== undefined && /\.c?js$/.test(npmScript)) return { command: process.execPath, args: [npmScript, ...args], shell: false };
  return { command: 'npm', args: [...args], shell: process.platform === 'win32' };
}

/** `wx-followers export` against a fake API, with its token in the environment and nothing else of the user's. */
export async function exportFrom(api: { url: string }, args: readonly string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['export', '--base-url', api.url, ...args], {
    env: cleanEnv(await tempDir(), { WX_ACCESS_TOKEN: FAKE_TOKEN, ...env }),
  });
}

/** Runs the built CLI as a user would, with stdout, stderr and stdin as pipes. */
export async function runCli(args: readonly string[], run: CliRun = {}): Promise<CliResult> {
  const configDir = run.env?.['WX_FOLLOWERS_CONFIG_DIR'] ?? (await tempDir());
  return runProcess(process.execPath, [BIN, ...args], { ...run, env: run.env ?? cleanEnv(configDir) });
}

export async function runProcess(command: string, args: readonly string[], run: CliRun): Promise<CliResult> {
  const [file, argv] = run.unprivileged === true ? unprivileged(command, args) : [command, args];
  const child = spawn(file, argv, {
    env: run.env,
    cwd: run.cwd,
    shell: run.shell ?? false,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  child.stdin.on('error', () => undefined);
  child.stdin.end(run.stdin ?? '');
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  return { code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') };
}

const asRoot = process.getuid?.() === 0;

/**
 * The command as a process that permission bits stop: root writes anywhere, so a test that needs a
 * folder or file the CLI cannot write runs it as root without capabilities (util-linux's setpriv
 * empties the bounding set: no CAP_DAC_OVERRIDE), wherever the checkout is; anyone else as itself.
 */
export function unprivileged(command: string, args: readonly string[]): [string, readonly string[]] {
  if (!asRoot) return [command, args];
  return ['setpriv', ['--bounding-set', '-all', '--inh-caps', '-all', '--', command, ...args]];
}

export function lines(openids: readonly string[]): string {
  return openids.map((openid) => `${openid}\n`).join('');
}

/** The cursor a stopped run names on stderr: `--resume OPENID`, the last OpenID written. */
export function resumeCursor(stderr: string): string {
  const match = /--resume (\S+?)\)?\.?$/m.exec(stderr);
  if (match?.[1] === undefined) throw new Error(`no --resume cursor in: ${stderr}`);
  return match[1];
}
