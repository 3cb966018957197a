import { Reporter } from '../console/report.js';
import { askYesNo, type IOStreams } from '../console/streams.js';
import { ExitCode } from '../errors.js';
import { CONFIG_KEYS, DEFAULT_PROFILE_KEY, PROFILE_KEYS, TOKEN_CACHE_KEY, type ConfigStore } from '../out/config-store.js';
import { type ConfigPlan, shownSetting } from '../plan/config.js';

/** Prints or changes the stored settings, as planned. */
export async function runConfig(plan: ConfigPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  try {
    switch (plan.action) {
      case 'path':
        io.stdout.write(`${plan.path}\n`);
        return ExitCode.Ok;
      case 'list':
        io.stdout.write(listing(plan.store));
        return ExitCode.Ok;
      case 'profiles':
        io.stdout.write(
          plan.store
            .profileNames()
            .map((name) => `${name}\n`)
            .join(''),
        );
        return ExitCode.Ok;
      case 'get':
        return printValue(plan, io, reporter);
      case 'unset':
        await plan.store.delete(plan.key, plan.profile);
        return ExitCode.Ok;
      case 'remove-profile':
        return await removeProfile(plan, io, reporter);
      case 'set':
        await plan.store.set(plan.key, plan.value, plan.profile);
        return ExitCode.Ok;
      case 'set-default-profile':
        await plan.store.setDefaultProfile(plan.profile);
        return ExitCode.Ok;
    }
  } catch (error) {
    return reporter.error(error);
  }
}

function printValue(plan: ConfigPlan & { action: 'get' }, io: IOStreams, reporter: Reporter): ExitCode {
  const { key, store, profile } = plan;
  const where = profile === undefined ? '' : ` of profile ${profile}`;
  if (key === TOKEN_CACHE_KEY || key === DEFAULT_PROFILE_KEY) {
    const value = key === TOKEN_CACHE_KEY ? tokenCacheSummary(store) : store.defaultProfile();
    if (value === undefined) {
      reporter.line(`wx-followers: config key ${key} is not set.`);
      return ExitCode.Failure;
    }
    io.stdout.write(`${value}\n`);
    return ExitCode.Ok;
  }
  const value = store.get(key, profile);
  if (value === undefined) {
    reporter.line(`wx-followers: config key ${key}${where} is not set.`);
    return ExitCode.Failure;
  }
  // --reveal is for $(...) in scripts: the value as stored, which `config set` checked.
  io.stdout.write(`${plan.reveal ? value : shownSetting(key, value)}\n`);
  return ExitCode.Ok;
}

/** Asked on the terminal unless --yes: a profile holds an account's secret, gone once removed. */
async function removeProfile(plan: ConfigPlan & { action: 'remove-profile' }, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  const { store, profile } = plan;
  const appid = store.get('appid', profile);
  const what = appid === undefined ? `profile ${profile}` : `profile ${profile} (AppID ${shownSetting('appid', appid)})`;
  if (!plan.confirmed && !(await askYesNo(io, `Remove ${what} and every setting in it? [y/N] `))) {
    reporter.line(`wx-followers: ${what} was kept.`);
    return ExitCode.Failure;
  }
  const wasDefault = store.defaultProfile() === profile;
  await store.deleteProfile(profile);
  if (wasDefault) reporter.line(`wx-followers: ${profile} was the default profile: ${DEFAULT_PROFILE_KEY} is unset too.`);
  return ExitCode.Ok;
}

/**
 * Every key that is set, `key=value` a line, secrets masked; the token cache as a summary; then
 * each profile under its name in brackets, as INI files and ~/.aws/config show sections.
 */
function listing(store: ConfigStore): string {
  let text = '';
  for (const key of CONFIG_KEYS) {
    const value = store.get(key);
    if (value !== undefined) text += `${key}=${shownSetting(key, value)}\n`;
  }
  const cache = tokenCacheSummary(store);
  if (cache !== undefined) text += `${TOKEN_CACHE_KEY}=${cache}\n`;
  const defaultProfile = store.defaultProfile();
  if (defaultProfile !== undefined) text += `${DEFAULT_PROFILE_KEY}=${shownSetting('appid', defaultProfile)}\n`;
  for (const profile of store.profileNames()) {
    text += `[${profile}]\n`;
    for (const key of PROFILE_KEYS) {
      const value = store.get(key, profile);
      if (value !== undefined) text += `${key}=${shownSetting(key, value)}\n`;
    }
  }
  return text;
}

/** What list and get say of the token cache: how many AppIDs have a token, never a token. */
function tokenCacheSummary(store: ConfigStore): string | undefined {
  const cached = store.cachedTokenCount();
  return cached > 0 ? `(stable tokens of ${cached} AppID${cached === 1 ? '' : 's'})` : undefined;
}
