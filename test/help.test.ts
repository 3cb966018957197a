import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';

describe('--help', () => {
  const commands = ['export', 'token', 'tags', 'diff', 'config', 'config set', 'config get', 'config unset', 'config list', 'config path'];

  it.each(commands)('of %s ends with two or three examples to copy', async (command) => {
    const result = await runCli([...command.split(' '), '--help']);
    expect(result.code).toBe(0);
    // Each example runs this command, maybe behind a pipe or inside $(...).
    expect(result.stdout.toString()).toMatch(new RegExp(`\\nExamples:\\n(  \\$ .*wx-followers ${command}\\b.*\\n){2,3}$`));
  });

  it('of config set says what ends a value typed on a terminal: Enter, not Ctrl-D (which would then go to the shell)', async () => {
    const result = await runCli(['config', 'set', '--help']);
    expect(result.stdout.toString()).toContain('wx-followers config set secret -   (on a terminal: type or paste it, then Enter)\n');
    expect(result.stdout.toString()).not.toMatch(/Ctrl-D/);
  });
});

describe('config --help', () => {
  // Written out here, not read from the code's list: a key left out of that list shows as missing.
  const everyKey = [
    'access-token',
    'appid',
    'secret',
    'base-url',
    'proxy',
    'token-command',
    'token-url',
    'component-appid',
    'component-token-command',
    'component-token-url',
    'authorizer-token-command',
    'authorizer-token-url',
    'db',
    'default-profile',
    'output',
    'state',
    'time-zone',
    'token-cache',
  ];

  it.each([['config'], ['config set']])('%s --help lists every key', async (command) => {
    const help = (await runCli([...command.split(' '), '--help'])).stdout.toString().replace(/\s+/g, ' ');
    const listed = /Keys: ([^.]*)\./.exec(help)?.[1] ?? '';
    expect(everyKey.filter((key) => !new RegExp(`(^|[ ,(])${key}([ ,;)]|$)`).test(listed))).toEqual([]);
  });
});

describe('sync --help', () => {
  it("gives the crontab line both READMEs give, in a named time zone, after the quota's reset at 00:00 China Standard Time", async () => {
    const help = (await runCli(['sync', '--help'])).stdout.toString();
    expect(help).toMatch(/\n {4}CRON_TZ=Asia\/Shanghai\n {4}30 0 \* \* \* cd \/srv\/wx && wx-followers sync -q --db followers\.db\n/);
    for (const readme of ['README.md', 'README.zh-CN.md']) {
      const text = await readFile(join(import.meta.dirname, '..', readme), 'utf8');
      expect(text, readme).toContain('\nCRON_TZ=Asia/Shanghai\n30 0 * * * cd /var/lib/wechat && wx-followers sync -q');
    }
  });
});

describe('--help and --version alone', () => {
  // Answered by the bin before anything is loaded (dist/help.txt, package.json): they must say
  // what commander says when it answers the same question.
  it.each([['--help'], ['-h']])('%s prints what `help` prints through commander', async (flag) => {
    const [early, viaCommander] = await Promise.all([runCli([flag]), runCli(['help'])]);
    expect(viaCommander.stdout.toString()).toMatch(/^Usage: wx-followers \[options\] \[command\]\n/);
    expect([early.code, early.stdout.toString(), early.stderr]).toEqual([0, viaCommander.stdout.toString(), '']);
  });

  it.each([['--version'], ['-V']])('%s prints the version of package.json, as commander does', async (flag) => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    // Two flags: not the early answer, so commander's.
    const [early, viaCommander] = await Promise.all([runCli([flag]), runCli([flag, flag])]);
    expect(viaCommander.stdout.toString()).toBe(`${version}\n`);
    expect([early.code, early.stdout.toString(), early.stderr]).toEqual([0, `${version}\n`, '']);
  });
});
