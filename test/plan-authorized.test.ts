/**
 * export --authorized's plan, in-process: the option combinations, the templates and each
 * account's token source, checked before any call; nothing is created or requested.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileNameOf } from '../src/plan/authorized-names.js';
import { planAuthorized, type AuthorizedFlags } from '../src/plan/authorized.js';
import { commandForAppid, refuseWithoutAuthorized } from '../src/plan/authorized-selection.js';
import { sharedTemplateMessage } from '../src/plan/profiles.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, usageOf } from './helpers/io.js';

const PLATFORM_ENV = { WX_COMPONENT_APPID: 'wxc0c0c0c0c0c0c0c0', WX_COMPONENT_TOKEN_URL: 'https://platform.example/component-token' };

async function plan(flags: Partial<AuthorizedFlags>, env: NodeJS.ProcessEnv = PLATFORM_ENV, config?: object) {
  const configDir = await tempDir();
  if (config !== undefined) await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: configDir, HOME: configDir, ...env });
  const planned = await planAuthorized({ progress: false, authorized: true, output: '{appid}.txt', ...flags }, io);
  expect((await readdir(configDir)).filter((name) => name !== 'config.json')).toEqual([]);
  return planned;
}

async function usageMessage(flags: Partial<AuthorizedFlags>, env: NodeJS.ProcessEnv = PLATFORM_ENV): Promise<string> {
  return usageOf(plan(flags, env));
}

describe('planAuthorized', () => {
  it('plans every account, with api_authorizer_token when no platform server gives the tokens, and no name to fetch', async () => {
    const planned = await plan({ state: '{appid}-{date}.state', accountsConcurrency: '3' });
    expect(planned).toMatchObject({ needsName: false, selection: { appids: undefined, tokens: { kind: 'refresh' }, concurrency: 3 } });
    expect(planned.selection.platform.component.appid.value).toBe('wxc0c0c0c0c0c0c0c0');
    expect(planned.state?.value).toBe('{appid}-{date}.state');
  });

  it('takes --authorized AppIDs (deduplicated), {name} (then names are fetched), and the token sources by level', async () => {
    const command = await plan(
      { authorized: 'wx1111111111111111, wx2222222222222222,wx1111111111111111', output: '{name}.txt' },
      {
        ...PLATFORM_ENV,
        WX_AUTHORIZER_TOKEN_COMMAND: 'tokens {appid}',
      },
    );
    expect(command).toMatchObject({ selection: { appids: ['wx1111111111111111', 'wx2222222222222222'] }, needsName: true });
    expect(command.selection.tokens).toEqual({ kind: 'command', command: 'tokens {appid}', from: 'WX_AUTHORIZER_TOKEN_COMMAND' });
    // The flag's level wins whole over the environment's.
    const url = await plan(
      { authorizerTokenUrl: 'https://platform.example/t/{appid}' },
      { ...PLATFORM_ENV, WX_AUTHORIZER_TOKEN_COMMAND: 'x' },
    );
    expect(url.selection.tokens).toMatchObject({
      kind: 'url',
      template: 'https://platform.example/t/{appid}',
      from: '--authorizer-token-url',
    });
    // A platform profile: its component token, its output template, its authorizer token URL.
    const profile = await plan(
      { output: undefined, profile: 'agency' },
      {},
      {
        profiles: {
          agency: {
            'component-appid': 'wxc0c0c0c0c0c0c0c0',
            'component-token-command': 'platform-token',
            output: 'exports/{appid}-{date}.txt',
            'authorizer-token-url': 'https://platform.example/t/{appid}',
          },
        },
      },
    );
    expect(profile.output.value).toBe('exports/{appid}-{date}.txt');
    expect(profile.selection.tokens).toMatchObject({ kind: 'url', from: 'config key authorizer-token-url of profile agency' });
  });

  it.each([
    [{ profiles: 'shop' }, {}, /--authorized and --profiles do not go together/],
    [{ allProfiles: true }, {}, /--authorized and --all-profiles/],
    [{ accessToken: 'SOME_TOKEN_0123456789' }, {}, /--authorized and --access-token/],
    [{ appid: 'wx1111111111111111' }, {}, /--authorized and --appid/],
    [{ tokenUrl: 'https://tokens.example/{appid}' }, {}, /--authorized and --token-url/],
    [{ resume: 'oAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, {}, /--authorized and --resume/],
    [{}, { WX_SECRET: 'SOME_SECRET' }, /WX_SECRET is set, and would serve every account/],
    [{ authorized: 'shop' }, {}, /The AppID from --authorized does not look like one/],
    [{ authorized: ' , ' }, {}, /--authorized takes AppIDs/],
    [{ output: undefined }, {}, /cannot share stdout/],
    [{ output: 'all.txt' }, {}, /--output all\.txt would be the same file for every account/],
    [
      { output: 'p/x.txt' },
      {},
      /^--output p\/x\.txt would be the same file for every account: put \{appid\} in the file's name \('p\/\{appid\}-x\.txt'\)\.$/,
    ],
    [
      { output: '/dev/stdout' },
      {},
      /^--output \/dev\/stdout would be one output for every account, and several accounts cannot share stdout or a device: give each account a file of its own, with \{appid\} in its name \('\{appid\}-\{date\}\.txt'\)\.$/,
    ],
    [{ state: 'one.state' }, {}, /--state one\.state would be the same file/],
    [{ output: '{profile}.txt' }, {}, /have no profile/],
    [
      { output: '{nick}.txt' },
      {},
      /\{nick\} is not a placeholder; with --authorized the placeholders are \{appid\}, \{name\} and \{date\}/,
    ],
    [{ withInfo: true, format: 'text' }, {}, /--with-info writes --format csv/],
    [{ accountsConcurrency: '9' }, {}, /--accounts-concurrency is too large/],
    [
      { authorizerTokenCommand: 'a', authorizerTokenUrl: 'https://b.example/{appid}' },
      {},
      /--authorizer-token-command and --authorizer-token-url were given together/,
    ],
    [{ authorizerTokenUrl: 'http://tokens.example/{appid}' }, {}, /must use https:\/\//],
  ] as const)('refuses %j (env %j) with exit 2', async (flags, env, message) => {
    expect(await usageMessage(flags as Partial<AuthorizedFlags>, { ...PLATFORM_ENV, ...env })).toMatch(message);
  });

  it('needs the platform: its component token source', async () => {
    expect(await usageMessage({}, {})).toMatch(/`export --authorized` needs the third-party platform's component token/);
  });
});

describe('around --authorized', () => {
  it("suggests a shared template's placeholder in the file's name, its folder kept (--profiles' too, Windows' separators)", () => {
    expect(sharedTemplateMessage('--state', 'C:\\data\\x.state', '{profile} or {appid}', '{profile}')).toBe(
      "--state C:\\\\data\\\\x.state would be the same file for every account: put {profile} or {appid} in the file's name ('C:\\\\data\\\\{profile}-x.state').",
    );
  });

  it('refuses its flags on any other export', () => {
    for (const flag of [
      'authorizerTokenCommand',
      'authorizerTokenUrl',
      'componentAppid',
      'componentTokenCommand',
      'componentTokenUrl',
    ] as const) {
      expect(() => refuseWithoutAuthorized({ progress: false, [flag]: 'x' })).toThrow(/goes with --authorized/);
    }
    expect(refuseWithoutAuthorized({ progress: false })).toEqual({ progress: false });
  });

  it('puts {appid} in a token command as a reference to WX_APPID, which the shell expands as one word', () => {
    expect(commandForAppid('tokens --for {appid} {appid}', 'linux')).toBe('tokens --for "$WX_APPID" "$WX_APPID"');
    expect(commandForAppid('tokens {appid}', 'win32')).toBe('tokens %WX_APPID%');
  });

  it.each([
    ['Shop/东区: "A"', 'Shop_东区_ _A_'],
    ['..hidden', '__hidden'],
    ['-rf', '_rf'],
    ['name. ', 'name'],
    ['a\u202eb\u0007c', 'a_b_c'],
    ['CON', '_CON'],
    ['  ', 'wx1111111111111111'],
    ['//', 'wx1111111111111111'],
    ['长'.repeat(60), '长'.repeat(40)],
  ])('makes the name %j the file name part %j', (name, expected) => {
    expect(fileNameOf(name, 'wx1111111111111111')).toBe(expected);
  });
});
