import { Reporter } from '../console/report.js';
import type { IOStreams } from '../console/streams.js';
import { ExitCode } from '../errors.js';
import { CONFIG_KEYS, TOKEN_CACHE_KEY, type ConfigStore } from '../out/config-store.js';
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
      case 'get': {
        const { key, store } = plan;
        const value = key === TOKEN_CACHE_KEY ? tokenCacheSummary(store) : store.get(key);
        if (value === undefined) {
          reporter.line(`wx-followers: config key ${key} is not set.`);
          return ExitCode.Failure;
        }
        // --reveal is for $(...) in scripts: the value as stored, which `config set` checked.
        io.stdout.write(`${plan.reveal || key === TOKEN_CACHE_KEY ? value : shownSetting(key, value)}\n`);
        return ExitCode.Ok;
      }
      case 'unset':
        await plan.store.delete(plan.key);
        return ExitCode.Ok;
      case 'set':
        await plan.store.set(plan.key, plan.value);
        return ExitCode.Ok;
    }
  } catch (error) {
    return reporter.error(error);
  }
}

/** Every key that is set, `key=value` a line, secrets masked; the token cache as a summary. */
function listing(store: ConfigStore): string {
  let text = '';
  for (const key of CONFIG_KEYS) {
    const value = store.get(key);
    if (value !== undefined) text += `${key}=${shownSetting(key, value)}\n`;
  }
  const cache = tokenCacheSummary(store);
  if (cache !== undefined) text += `${TOKEN_CACHE_KEY}=${cache}\n`;
  return text;
}

/** What list and get say of the token cache: how many AppIDs have a token, never a token. */
function tokenCacheSummary(store: ConfigStore): string | undefined {
  const cached = store.cachedTokenCount();
  return cached > 0 ? `(stable tokens of ${cached} AppID${cached === 1 ? '' : 's'})` : undefined;
}
