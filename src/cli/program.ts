import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import type { ConfigFlags } from '../plan/config.js';
import { CONFIG_KEYS_LISTED } from '../plan/config-keys.js';
import type { DiffFlags } from '../plan/diff.js';
import type { AuthorizedFlags } from '../plan/authorized.js';
import type { AuthorizersFlags } from '../plan/authorizers.js';
import type { ChangesFlags } from '../plan/changes.js';
import type { CheckFlags } from '../plan/check.js';
import type { TagsFlags } from '../plan/tags.js';
import type { TokenFlags } from '../plan/token.js';
import type { SyncFlags } from '../plan/sync.js';
import type { IOStreams } from '../console/streams.js';
import { planThenRun } from './plan-then-run.js';
import { packageVersion } from '../version.js';

const EXPORT_HELP = `
Exit codes:
  0  complete, or --limit or --max-calls reached   3  credentials refused
  1  unexpected error, output failed               4  daily quota spent, or rate limited
  2  usage error                                   5  the API or the network failed
  129 SIGHUP (terminal or console closed)   130 SIGINT (Ctrl-C)
  143 SIGTERM                               149 SIGBREAK (Ctrl-Break, Windows)
With --profiles, --all-profiles or --authorized: 0 when every account finished; else a
signal's code, then 2, then the first of 1, 3, 4, 5 that an account ended with.

--authorized (agencies): each account's token comes from the platform's server when
--authorizer-token-command or --authorizer-token-url is set ({appid} says whose); prefer it:
without it, the tool asks api_authorizer_token with the refresh token from the platform's list,
and a new authorizer token may retire the one the platform's server holds. An account without
user management (scope 2), whose refresh token is refused (61023) or that withdrew (61003) fails
alone; 61004 (this IP off the platform's whitelist) or a refused component token stops the run:
  wx-followers export --profile agency --authorized -o '{appid}-{date}.txt' --summary summary.ndjson

When a run stops early, stderr names the cursor to go on from: --resume OPENID.

Examples:
  $ wx-followers export -f csv --bom -o followers.csv
  $ wx-followers export --state followers.state -o followers.txt
  $ wx-followers export --all-profiles -o '{profile}-{date}.txt' --state '{profile}.state'`;

/** Two or three lines a person can copy, at the end of a command's --help. */
function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}\n`).join('')}`.trimEnd();
}

/**
 * Wires commander to the commands and nothing else. Each command is imported only when it
 * runs, so that --help and --version stay quick.
 */
export async function main(argv: readonly string[], io: IOStreams): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const done = (code: ExitCode): void => {
    exitCode = code;
  };
  const program = new Command('wx-followers')
    .description('Export the followers of a WeChat Official Account as text, CSV or NDJSON.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  for (const add of [addExport, addSync, addToken, addCheck, addTags, addAccounts, addDiff, addChanges, addConfig]) add(program, io, done);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Commander has printed its message; a usage error is exit 2 for scripts, not commander's 1.
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  return exitCode;
}

/** export: flags -> planExport -> runExport. */
function addExport(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const exportCommand = program
    .command('export')
    .description("Export the follower list (or a tag's followers, or the blacklist), page by page, to stdout or a file.")
    .option('-f, --format <format>', 'text | csv | ndjson (default: text; csv with --with-info)')
    .option('-o, --output <file>', 'write to a file (through FILE.partial; a device or FIFO straight through) instead of stdout')
    .option('--resume <openid>', "continue after this OpenID (the API's next_openid); with -o, the file must end with it")
    .option('--limit <n>', 'stop after n OpenIDs')
    .option('--max-calls <n>', 'stop cleanly (exit 0, cursor named, state saved) before the API call n+1 of this run, of any kind')
    .option('--state <file>', 'checkpoint file for cron: a run goes on where the last unfinished one stopped (needs --output)')
    .option('--tag <tagid>', 'the followers carrying this tag (ids: wx-followers tags)')
    .option('--blacklist', 'the blacklist instead of the followers')
    .option('--with-info', "each follower's details (batchget): subscribe time, UnionID, tags, remark... (csv or ndjson)")
    .option('--lang <lang>', 'with --with-info: zh_CN | zh_TW | en (default: zh_CN)')
    .option('--concurrency <n>', 'with --with-info: details calls in flight at once (default 8, at most 32)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, so that Excel shows Chinese text')
    .option('--no-progress', 'no spinner or bar')
    .option('--profiles <names>', 'export each of these profiles (comma-separated) in turn; -o and --state take {profile}, {appid}, {date}')
    .option('--all-profiles', "export every account's profile in turn (as --profiles); a third-party platform's is left out: --authorized")
    .option('--accounts-concurrency <n>', 'with --profiles: accounts exported at once (default 1, at most 8)')
    .option('--summary <file>', "with --profiles or --authorized: each account's outcome as NDJSON too, for monitoring")
    .addHelpText('after', EXPORT_HELP);
  withComponentOptions(withConnectionOptions(withAuthorizedOptions(exportCommand, 'export'))).action(async (flags: AuthorizedFlags) => {
    const [{ selectsAccounts }, { selectsAuthorized, refuseWithoutAuthorized }] = await Promise.all([
      import('../plan/accounts.js'),
      import('../plan/authorized-selection.js'),
    ]);
    if (selectsAuthorized(flags)) {
      done(await exportAuthorized(flags, io));
      return;
    }
    if (selectsAccounts(flags) || flags.accountsConcurrency !== undefined || flags.summary !== undefined) {
      const [{ planAccounts }, { runAccounts }] = await Promise.all([import('../plan/accounts.js'), import('../run/accounts.js')]);
      done(
        await planThenRun(
          io,
          async () => planAccounts(refuseWithoutAuthorized(flags), io),
          (plan, reporter) => runAccounts(plan, io, reporter),
        ),
      );
      return;
    }
    const [{ planExport }, { runExport }] = await Promise.all([import('../plan/export.js'), import('../run/export.js')]);
    done(
      await planThenRun(
        io,
        async () => planExport(refuseWithoutAuthorized(flags), io),
        (plan, reporter) => runExport(plan, io, reporter),
      ),
    );
  });
}

/** export --authorized: the platform's accounts. */
async function exportAuthorized(flags: AuthorizedFlags, io: IOStreams): Promise<ExitCode> {
  const [{ planAuthorized }, { runAuthorized }] = await Promise.all([import('../plan/authorized.js'), import('../run/authorized.js')]);
  return planThenRun(
    io,
    () => planAuthorized(flags, io),
    (plan, reporter) => runAuthorized(plan, io, reporter),
  );
}

/** --authorized and what goes with it (export, sync): a third-party platform's accounts, each with its own token. */
function withAuthorizedOptions(command: Command, verb: 'export' | 'sync'): Command {
  const authorized =
    verb === 'export'
      ? 'export the accounts that authorized a third-party platform (all, or these AppIDs, comma-separated); -o takes {appid}, {name}, {date}'
      : 'sync the accounts that authorized a third-party platform (all, or these AppIDs, comma-separated) into the one database';
  return command
    .option('--authorized [appids]', authorized)
    .option(
      '--authorizer-token-command <cmd>',
      "with --authorized: each account's token from the platform's server through this shell command, {appid} saying whose (env WX_AUTHORIZER_TOKEN_COMMAND)",
    )
    .option(
      '--authorizer-token-url <url>',
      "with --authorized: each account's token from the platform's server at this URL, {appid} filled in (env WX_AUTHORIZER_TOKEN_URL, WX_AUTHORIZER_TOKEN_URL_AUTH)",
    );
}

const SYNC_HELP = `
Each run walks the follower list a page at a time into the database, one transaction a page.
A walk that reaches the end marks who left; one that stops early (a signal, the quota, --limit,
--max-calls, a failure) marks nobody, and the next sync of the account goes on where it stopped.
The first complete walk of an account is its baseline: changes are counted from the next one.

Exit codes: as export's (0 also when --limit or --max-calls stopped the walk, or the batchget
quota left details for the next run). Another sync of the same account into the same database
under way: this one is refused, exit 1.

--authorized (agencies): the accounts that authorized the platform, each under its AppID in the
one database, each token as export --authorized takes it (--authorizer-token-command or -url,
else api_authorizer_token); the same failures of one account and stops of the platform.

Examples:
  $ wx-followers sync --db followers.db
  $ wx-followers sync --db followers.db --with-info --details-max-age 7d
  $ wx-followers sync --all-profiles --db postgres://wx@db.example/wx
  $ wx-followers sync --profile agency --authorized --db agency.db --summary summary.ndjson
  crontab, nightly after the quota resets at 00:00 China Standard Time, whatever the machine's
  time zone (CRON_TZ names the zone the line is read in, for cronie and most crons; where cron
  ignores it, write the hour in the machine's zone: 16:30 on a machine in UTC):
    CRON_TZ=Asia/Shanghai
    30 0 * * * cd /srv/wx && wx-followers sync -q --db followers.db`;

/** sync: the follower list kept in a database, with who joined and who left. */
function addSync(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const syncCommand = program
    .command('sync')
    .description('Bring a database (SQLite file or PostgreSQL) up to date with the follower list: who follows, who joined, who left.')
    .option(
      '--db <target>',
      'a SQLite file, or a postgres:// URL (env WX_DB; config key db, of the profile or the top level; default: wx-followers.db)',
    )
    .option('--restart', "start a new walk from the list's first page instead of going on with an unfinished one")
    .option('--limit <n>', 'stop after n OpenIDs (the next sync goes on from there)')
    .option('--max-calls <n>', 'stop cleanly (exit 0) before the API call n+1 of this run; the next sync goes on from there')
    .option('--with-info', 'fetch the details (batchget) of followers who have none yet, or whose details are too old')
    .option(
      '--details-max-age <age>',
      'with --with-info: fetch details again once older than this, in h, d or w, at least 1h: 30d, 12h, 2w (default 30d)',
    )
    .option('--lang <lang>', 'with --with-info: zh_CN | zh_TW | en (default: zh_CN)')
    .option('--concurrency <n>', 'with --with-info: details calls in flight at once (default 8, at most 32)')
    .option('--no-progress', 'no spinner or bar')
    .option('--profiles <names>', 'sync each of these profiles (comma-separated) in turn')
    .option('--all-profiles', "sync every account's profile in turn (as --profiles); a third-party platform's is left out: --authorized")
    .option('--accounts-concurrency <n>', 'with --profiles or --authorized: accounts synced at once (default 1, at most 8)')
    .option('--summary <file>', "with --profiles or --authorized: each account's outcome as NDJSON too, for monitoring")
    .addHelpText('after', SYNC_HELP);
  withComponentOptions(withConnectionOptions(withAuthorizedOptions(syncCommand, 'sync'))).action(async (flags: SyncFlags) => {
    done(await syncAction(flags, io));
  });
}

/** sync --authorized, sync over profiles, or one account's sync. */
async function syncAction(flags: SyncFlags, io: IOStreams): Promise<ExitCode> {
  const [{ selectsAccounts }, { selectsAuthorized, refuseWithoutAuthorized }] = await Promise.all([
    import('../plan/accounts.js'),
    import('../plan/authorized-selection.js'),
  ]);
  if (selectsAuthorized(flags)) {
    const [{ planSyncAuthorized }, { runSyncAuthorized }] = await Promise.all([
      import('../plan/sync-authorized.js'),
      import('../run/sync-accounts.js'),
    ]);
    return planThenRun(
      io,
      () => planSyncAuthorized(flags, io),
      (plan, reporter) => runSyncAuthorized(plan, io, reporter),
    );
  }
  if (selectsAccounts(flags) || flags.accountsConcurrency !== undefined || flags.summary !== undefined) {
    const [{ planSyncAccounts }, { runSyncAccounts }] = await Promise.all([import('../plan/sync.js'), import('../run/sync-accounts.js')]);
    return planThenRun(
      io,
      async () => planSyncAccounts(refuseWithoutAuthorized(flags), io),
      (plan, reporter) => runSyncAccounts(plan, io, reporter),
    );
  }
  const [{ planSync }, { runSync }] = await Promise.all([import('../plan/sync.js'), import('../run/sync.js')]);
  return planThenRun(
    io,
    async () => planSync(refuseWithoutAuthorized(flags), io),
    (plan, reporter) => runSync(plan, io, reporter),
  );
}

/** token: prints a usable access token. */
function addToken(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const tokenCommand = program
    .command('token')
    .description(
      'Print a valid access token on stdout, for scripts (from the cache, obtained from the AppID and AppSecret, or from --token-command or --token-url).',
    )
    .addHelpText('after', examples('wx-followers token', 'wx-followers token --appid wx1234567890abcdef --secret - < secret.txt'));
  withConnectionOptions(tokenCommand).action(async (flags: TokenFlags) => {
    const [{ planToken }, { runToken }] = await Promise.all([import('../plan/token.js'), import('../run/token.js')]);
    done(
      await planThenRun(
        io,
        () => planToken(flags, io),
        (plan, reporter) => runToken(plan, io, reporter),
      ),
    );
  });
}

/** check: what an export would meet, before it starts. */
function addCheck(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const checkCommand = program
    .command('check')
    .description(
      "Check before an export: where the token comes from (never shown), whether the API takes it from here, the proxy, and the day's quota.",
    )
    .option('-f, --format <format>', 'text (a line a fact) | json (one object, for scripts) (default: text)')
    .option('--profiles <names>', 'check each of these profiles, comma-separated (as export --profiles runs them)')
    .option('--all-profiles', "check every account's profile (a third-party platform's is left out)")
    .addHelpText(
      'after',
      `
Makes one get_api_domain_ip call (it spends none of the export's quota), then asks quota/get for
user/get and user/info/batchget. On errcode 40164 it names the address the API saw, and the two
ways out: add it to the IP whitelist, or go through a proxy on a whitelisted server.
Exit 0 when an export would start; else the code the export would stop with (2 usage or config,
3 credentials refused or IP not on the whitelist, 4 today's user/get quota spent, 5 network or proxy).
With --profile of a third-party platform (component keys only): its component token source, and
one api_get_authorizer_list call for one account (how many authorized it), as export --authorized.
${examples('wx-followers check', 'wx-followers check --format json | jq .quota', 'wx-followers check -q > /dev/null && wx-followers export -o followers.txt')}`,
    );
  withConnectionOptions(checkCommand).action(async (flags: CheckFlags) => {
    const [{ planChecks }, { runChecks }] = await Promise.all([import('../plan/check.js'), import('../run/check.js')]);
    done(
      await planThenRun(
        io,
        () => planChecks(flags, io),
        (plans, reporter) => runChecks(plans, io, reporter),
      ),
    );
  });
}

/** tags: the account's tags. */
function addTags(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const tagsCommand = program
    .command('tags')
    .description("List the account's tags: id, name and follower count (a table on a terminal).")
    .option('-f, --format <format>', 'text (tab-separated) | csv | ndjson (default: a table on a terminal, else text)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, for Excel')
    .addHelpText('after', examples('wx-followers tags', 'wx-followers tags -f csv --bom > tags.csv'));
  withConnectionOptions(tagsCommand).action(async (flags: TagsFlags) => {
    const [{ planTags }, { runTags }] = await Promise.all([import('../plan/tags.js'), import('../run/tags.js')]);
    done(
      await planThenRun(
        io,
        () => planTags(flags, io),
        (plan, reporter) => runTags(plan, io, reporter),
      ),
    );
  });
}

/** accounts: the accounts that authorized a third-party platform. */
function addAccounts(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const accountsCommand = program
    .command('accounts')
    .description(
      "For a third-party platform (agencies): list the accounts that authorized it, with the time; its component token from the platform's server.",
    )
    .option('-f, --format <format>', 'text (tab-separated) | csv | ndjson (default: text)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, for Excel')
    .option(
      '--with-info',
      "each account's name, type, verification, and whether it granted user management (one call an account, 5 at once)",
    )
    .addHelpText(
      'after',
      `
Columns: appid, auth_time, user_management (yes | no | not fetched), then with --with-info name,
service_type, verify_type (user_management: withdrawn, for one withdrawn meanwhile). An account must grant user management (function scope 2) for its
followers to be exported. The accounts' refresh tokens are never printed.
Exit 0 when listed; 2 usage (no component token source or AppID), 3 the component token refused
or this machine's IP off the platform's whitelist (61004), 5 network or API.
${examples(
  'wx-followers accounts --component-appid wx1234567890abcdef --component-token-url https://platform.example/component-token',
  'wx-followers accounts --profile agency --with-info -f csv --bom > accounts.csv',
)}`,
    );
  withTransportOptions(withComponentOptions(accountsCommand)).action(async (flags: AuthorizersFlags) => {
    const [{ planAuthorizers }, { runAuthorizers }] = await Promise.all([
      import('../plan/authorizers.js'),
      import('../run/authorizers.js'),
    ]);
    done(
      await planThenRun(
        io,
        () => planAuthorizers(flags, io),
        (plan, reporter) => runAuthorizers(plan, io, reporter),
      ),
    );
  });
}

/** diff: who came and who left between two exports. */
function addDiff(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  program
    .command('diff <old> <new>')
    .description("Who came and who left between two exports (text, CSV or NDJSON; '-' reads stdin): +OPENID, -OPENID.")
    .option('-f, --format <format>', 'text | csv | ndjson (default: text)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, for Excel')
    .option('--allow-empty', 'take an empty input for an export of no one (else refused: what a failed export leaves)')
    .addHelpText(
      'after',
      `
Writes the OpenIDs added, in the new export's order, then those removed, in the old one's.
Exit 0 when done, whatever the differences; 2 when an input is not an export (its line named),
is cut off, or is empty (without --allow-empty).
${examples('wx-followers diff monday.txt tuesday.txt', 'wx-followers export -o today.txt && wx-followers diff yesterday.txt today.txt', 'wx-followers diff -f csv --bom old.csv new.csv > changes.csv')}`,
    )
    .action(async (oldPath: string, newPath: string, flags: DiffFlags) => {
      const [{ planDiff }, { runDiff }] = await Promise.all([import('../plan/diff.js'), import('../run/diff.js')]);
      done(
        await planThenRun(
          io,
          () => planDiff(oldPath, newPath, flags, io),
          (plan, reporter) => runDiff(plan, io, reporter),
        ),
      );
    });
}

/** changes: who joined and who left, read from the database sync keeps. */
function addChanges(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  program
    .command('changes')
    .description(
      'Joined and left per day for an account and a period, or the OpenIDs themselves (--list), read from the database sync keeps.',
    )
    .option(
      '--db <target>',
      'the database: a SQLite file, or a postgres:// URL (env WX_DB; else config key db, of the profile or the top level; default wx-followers.db)',
    )
    .option('--appid <appid>', "the account (env WX_APPID; default: the profile's appid, or the database's only account)")
    .option('--profile <name>', "the account of this profile's appid (env WX_PROFILE)")
    .option('--since <n>', 'the last n days or weeks, today included: 7d, 2w (default 7d)')
    .option('--from <date>', 'the first day, YYYY-MM-DD (with --to: the days between, both included)')
    .option('--to <date>', 'the last day, YYYY-MM-DD (default: today)')
    .option('--utc', "days in UTC, not the machine's local time")
    .option('--list', 'each change instead of the counts: at, kind (joined or left), openid; streamed')
    .option('-f, --format <format>', 'text | csv | ndjson (default: text)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, for Excel')
    .option('-o, --output <file>', 'write to a file (through FILE.partial) instead of stdout')
    .option('-q, --quiet', 'nothing on stderr but errors')
    .addHelpText(
      'after',
      `
Reads the database only: a read-only file will do. Text is a table of every day of the period
(days without changes included) and its total, with a chart of the net change a day when stdout
is a terminal; csv and ndjson are one record a day. stderr says when the account's first sync
(its baseline, not counted as joined) falls in the period, and when its last sync did not complete
(who left is known only up to the last complete one).
Exit 0 when done; 2 when there is no database, it is of a newer version, or the account is unknown
or not chosen among several.
${examples('wx-followers changes --since 30d', 'wx-followers changes --from 2024-05-01 --to 2024-05-31 -f csv --bom -o may.csv', 'wx-followers changes --list --since 1d -f ndjson | jq -r .openid')}`,
    )
    .action(async (flags: ChangesFlags) => {
      const [{ planChanges }, { runChanges }] = await Promise.all([import('../plan/changes.js'), import('../run/changes.js')]);
      done(
        await planThenRun(
          io,
          () => planChanges(flags, io),
          (plan, reporter) => runChanges(plan, io, reporter),
        ),
      );
    });
}

/** config and its actions; --profile NAME (before or after the action) acts on that profile. */
function addConfig(program: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  const config = program
    .command('config')
    .summary('Read and change the stored settings, named profiles of them, and the token cache.')
    .description(`Read and change the stored settings, named profiles of them, and the token cache. Keys: ${CONFIG_KEYS_LISTED}.`)
    .option('--profile <name>', 'act on this profile (made by its first set) instead of the settings outside any profile')
    .addHelpText(
      'after',
      examples(
        'wx-followers config set appid wx1234567890abcdef',
        'wx-followers config --profile shop set appid wx1234567890abcdef',
        'wx-followers config path',
      ),
    );
  const profileOf = (options: { profile?: string }): string | undefined => options.profile ?? config.opts<{ profile?: string }>().profile;
  addConfigChanges(config, io, done, profileOf);
  addConfigReads(config, io, done);
}

/** config set, get and unset: a key of the settings or of a profile. */
function addConfigChanges(
  config: Command,
  io: IOStreams,
  done: (exitCode: ExitCode) => void,
  profileOf: (options: { profile?: string }) => string | undefined,
): void {
  config
    .command('set <key> <value>')
    .description("store a value; '-' reads it from stdin; `set default-profile NAME` picks the profile used when none is given")
    .option('--profile <name>', 'store it in this profile; a profile also takes output, state and time-zone')
    .addHelpText(
      'after',
      `\nKeys: ${CONFIG_KEYS_LISTED}.\n${examples(
        'wx-followers config set appid wx1234567890abcdef',
        'wx-followers config set secret -   (on a terminal: type or paste it, then Enter)',
        "wx-followers config set --profile shop output 'exports/{profile}-{date}.txt'",
      )}`,
    )
    .action(async (key: string, value: string, options: { profile?: string }) => {
      done(await runConfigAction({ action: 'set', key, value, profile: profileOf(options) }, io));
    });
  config
    .command('get <key>')
    .description('print a value (secrets masked)')
    .option('--reveal', 'print a secret whole', false)
    .option('--profile <name>', "this profile's value")
    .addHelpText(
      'after',
      examples('wx-followers config get appid', 'wx-followers config get secret --reveal', 'wx-followers config get --profile shop appid'),
    )
    .action(async (key: string, options: { reveal: boolean; profile?: string }) => {
      done(await runConfigAction({ action: 'get', key, reveal: options.reveal, profile: profileOf(options) }, io));
    });
  config
    .command('unset [key]')
    .description('remove a value; `unset token-cache` forgets the cached stable tokens; `unset --profile NAME` removes that profile')
    .option('--profile <name>', "remove this profile's value, or with no key the whole profile (asked on a terminal)")
    .option('-y, --yes', 'remove a profile without asking (for scripts)')
    .addHelpText(
      'after',
      examples(
        'wx-followers config unset access-token',
        'wx-followers config unset token-cache',
        'wx-followers config unset --profile shop --yes',
      ),
    )
    .action(async (key: string | undefined, options: { profile?: string; yes?: boolean }) => {
      done(await runConfigAction({ action: 'unset', key, profile: profileOf(options), yes: options.yes }, io));
    });
}

/** config list, profiles and path: what is stored, and where. */
function addConfigReads(config: Command, io: IOStreams, done: (exitCode: ExitCode) => void): void {
  config
    .command('list')
    .description('print every value that is set, then each profile as [name] and its values (secrets masked)')
    .addHelpText('after', examples('wx-followers config list', 'WX_FOLLOWERS_CONFIG_DIR=~/.wx-shop wx-followers config list'))
    .action(async () => {
      done(await runConfigAction({ action: 'list' }, io));
    });
  config
    .command('profiles')
    .description("print the profiles' names, one a line")
    .addHelpText('after', examples('wx-followers config profiles', 'for p in $(wx-followers config profiles); do ...; done'))
    .action(async () => {
      done(await runConfigAction({ action: 'profiles' }, io));
    });
  config
    .command('path')
    .description("print the config file's path")
    .addHelpText('after', examples('wx-followers config path', 'chmod 600 "$(wx-followers config path)"'))
    .action(async () => {
      done(await runConfigAction({ action: 'path' }, io));
    });
}

/** The credential and connection options that export, token, tags and check share. */
function withConnectionOptions(command: Command): Command {
  command
    .option('-t, --access-token <token>', "access token; '-' reads it from stdin (env WX_ACCESS_TOKEN)")
    .option('--appid <appid>', "the account's AppID (env WX_APPID)")
    .option('--secret <secret>', "the account's AppSecret; '-' reads it from stdin (env WX_SECRET)")
    .option('--token-command <cmd>', 'take every token from this shell command: it prints the token or JSON (env WX_TOKEN_COMMAND)')
    .option('--token-url <url>', 'take every token from this service, {appid} filled in (env WX_TOKEN_URL, WX_TOKEN_URL_AUTH)');
  return withTransportOptions(command);
}

/** A third-party platform's AppID and the source of its component token (the platform's server). */
function withComponentOptions(command: Command): Command {
  return command
    .option('--component-appid <appid>', "the third-party platform's AppID (env WX_COMPONENT_APPID)")
    .option(
      '--component-token-command <cmd>',
      "take the platform's component token from this shell command: it prints the token or JSON (env WX_COMPONENT_TOKEN_COMMAND)",
    )
    .option(
      '--component-token-url <url>',
      "take the platform's component token from this service, {component_appid} filled in (env WX_COMPONENT_TOKEN_URL, WX_COMPONENT_TOKEN_URL_AUTH)",
    );
}

/** Where and how the API is called, whoever's token the calls carry. */
function withTransportOptions(command: Command): Command {
  return command
    .option('--base-url <url>', 'API origin (default https://api.weixin.qq.com; env WX_API_BASE_URL)')
    .option('--timeout <ms>', 'per-request timeout in milliseconds (default 30000, at most 2147483647)')
    .option('--retries <n>', 'retries of a request that failed for a passing reason (default 5, at most 100)')
    .option('--proxy <url>', 'forward proxy, http://[user:password@]host:port (config key proxy; env HTTPS_PROXY, NO_PROXY)')
    .option('--no-proxy', 'no proxy this run, whatever the config or the environment say')
    .option('--profile <name>', "the config's settings of this profile (env WX_PROFILE; default: config key default-profile)")
    .option('-q, --quiet', 'nothing on stderr but errors');
}

async function runConfigAction(flags: ConfigFlags, io: IOStreams): Promise<ExitCode> {
  const [{ planConfig }, { runConfig }] = await Promise.all([import('../plan/config.js'), import('../run/config.js')]);
  return planThenRun(
    io,
    () => planConfig(flags, io),
    (plan, reporter) => runConfig(plan, io, reporter),
  );
}
