/**
 * The plan of `wx-followers accounts`, in-process: the platform's AppID and component token
 * source from flags, environment or a (platform) profile, and the usage errors; nothing is created
 * or requested on the way (no fake API is even started).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planAuthorizers, type AuthorizersFlags } from '../src/plan/authorizers.js';
import { tempDir } from './helpers/cli.js';
import { testStreams, usageOf } from './helpers/io.js';

const APPID = 'wxc0c0c0c0c0c0c0c0';

async function plan(flags: AuthorizersFlags, env: NodeJS.ProcessEnv = {}, config?: object) {
  const configDir = await tempDir();
  if (config !== undefined) await writeFile(join(configDir, 'config.json'), JSON.stringify(config));
  const io = testStreams({ WX_FOLLOWERS_CONFIG_DIR: configDir, HOME: configDir, ...env });
  const planned = await planAuthorizers(flags, io);
  // A plan writes nothing, not even the config folder's lock.
  expect(await readdir(configDir)).toEqual(config === undefined ? [] : ['config.json']);
  return planned;
}

async function usageMessage(flags: AuthorizersFlags, env: NodeJS.ProcessEnv = {}, config?: object): Promise<string> {
  return usageOf(plan(flags, env, config));
}

describe('planAuthorizers', () => {
  it('takes a command by flag, text without info by default, and gives the command the AppID alone', async () => {
    const planned = await plan({ componentAppid: APPID, componentTokenCommand: 'platform-token' });
    expect(planned).toMatchObject({ format: 'text', bom: false, withInfo: false });
    expect(planned.connection.component.appid).toEqual({ value: APPID, origin: '--component-appid' });
    expect(planned.connection.component.service).toMatchObject({
      kind: 'command',
      command: 'platform-token',
      from: '--component-token-command',
      appid: undefined,
      componentAppid: APPID,
    });
  });

  it('fills {component_appid} into a URL from the environment, with its own Authorization variable', async () => {
    const planned = await plan(
      { withInfo: true, format: 'csv', bom: true },
      {
        WX_COMPONENT_APPID: APPID,
        WX_COMPONENT_TOKEN_URL: 'https://platform.example/token/{component_appid}?key=1',
        WX_COMPONENT_TOKEN_URL_AUTH: 'Bearer abc',
        WX_TOKEN_URL_AUTH: 'Bearer not-this-one',
      },
    );
    expect(planned).toMatchObject({ format: 'csv', bom: true, withInfo: true });
    const { service } = planned.connection.component;
    if (service.kind !== 'url') throw new Error('expected a URL');
    expect(service.url.href).toBe(`https://platform.example/token/${APPID}?key=1`);
    expect(service.authorization).toBe('Bearer abc');
    expect(service.from).toBe('WX_COMPONENT_TOKEN_URL');
    // What a refusal of the service names: the platform's setting and variable, not the account's.
    expect(service.names).toEqual({ setting: '--component-token-url', authorizationEnv: 'WX_COMPONENT_TOKEN_URL_AUTH' });
  });

  it('reads a platform profile, and a flag wins over the environment, which wins over the config', async () => {
    const config = {
      profiles: {
        agency: {
          'component-appid': APPID,
          'component-token-url': 'https://platform.example/t',
          'base-url': 'https://sh.api.weixin.qq.com',
        },
      },
    };
    const fromProfile = await plan({ profile: 'agency' }, {}, config);
    expect(fromProfile.connection.component.service).toMatchObject({
      kind: 'url',
      from: 'config key component-token-url of profile agency',
    });
    expect(fromProfile.connection.component.appid.origin).toBe('config key component-appid of profile agency');
    expect(fromProfile.connection.baseUrl.host).toBe('sh.api.weixin.qq.com');
    // The environment's command wins over the profile's URL (a level wins whole); the flag over both.
    const fromEnv = await plan({ profile: 'agency' }, { WX_COMPONENT_TOKEN_COMMAND: 'from-env' }, config);
    expect(fromEnv.connection.component.service).toMatchObject({ kind: 'command', command: 'from-env' });
    const fromFlag = await plan(
      { profile: 'agency', componentTokenUrl: 'https://other.example/t' },
      { WX_COMPONENT_TOKEN_COMMAND: 'from-env' },
      config,
    );
    expect(fromFlag.connection.component.service).toMatchObject({ kind: 'url', from: '--component-token-url' });
  });

  it.each<[string, AuthorizersFlags, NodeJS.ProcessEnv, RegExp]>([
    [
      'no source',
      { componentAppid: APPID },
      {},
      /needs the third-party platform's component token.*--component-token-command CMD or --component-token-url URL/,
    ],
    ['no AppID', { componentTokenCommand: 'x' }, {}, /not its AppID: give it with --component-appid/],
    ['a bad AppID', { componentTokenCommand: 'x', componentAppid: 'wx 1' }, {}, /The AppID from --component-appid does not look like one/],
    [
      'both sources',
      { componentAppid: APPID, componentTokenCommand: 'x', componentTokenUrl: 'https://p.example/t' },
      {},
      /--component-token-command and --component-token-url were given together on the command line/,
    ],
    [
      'both in env',
      {},
      { WX_COMPONENT_APPID: APPID, WX_COMPONENT_TOKEN_COMMAND: 'x', WX_COMPONENT_TOKEN_URL: 'https://p.example/t' },
      /WX_COMPONENT_TOKEN_COMMAND and WX_COMPONENT_TOKEN_URL were given together in the environment/,
    ],
    [
      '{appid} in the URL',
      { componentAppid: APPID, componentTokenUrl: 'https://p.example/{appid}' },
      {},
      /has \{appid\} in it: the platform's token belongs to no account/,
    ],
    ['plain http off loopback', { componentAppid: APPID, componentTokenUrl: 'http://p.example/t' }, {}, /must use https:\/\//],
    ['a user in the URL', { componentAppid: APPID, componentTokenUrl: 'https://u:p@p.example/t' }, {}, /WX_COMPONENT_TOKEN_URL_AUTH/],
    ['--bom without csv', { componentAppid: APPID, componentTokenCommand: 'x', bom: true }, {}, /--bom goes with --format csv/],
    ['an unknown format', { componentAppid: APPID, componentTokenCommand: 'x', format: 'xml' }, {}, /--format must be one of/],
  ])('refuses %s', async (_name, flags, env, message) => {
    expect(await usageMessage(flags, env)).toMatch(message);
  });

  it("ignores an account's token sources: they are not the platform's", async () => {
    expect(await usageMessage({}, { WX_TOKEN_COMMAND: 'account-token', WX_APPID: 'wx0123456789abcdef' })).toMatch(
      /needs the third-party platform's component token/,
    );
  });
});
