import { Command, CommanderError } from 'commander';
import { ExitCode } from '../errors.js';
import type { ConfigAction } from '../run/config.js';
import type { DiffOptions } from '../run/diff.js';
import type { ExportFlags } from '../plan/export.js';
import type { TagsFlags } from '../plan/tags.js';
import type { TokenFlags } from '../plan/token.js';
import type { IOStreams } from '../console/streams.js';
import { planThenRun } from './plan-then-run.js';
import { packageVersion } from '../version.js';

const EXPORT_HELP = `
Exit codes:
  0  complete, or --limit reached      3  credentials refused
  1  unexpected error, output failed   4  daily quota spent, or rate limited
  2  usage error                       5  the API or the network failed
  129 SIGHUP (terminal or console closed)   130 SIGINT (Ctrl-C)
  143 SIGTERM                               149 SIGBREAK (Ctrl-Break, Windows)

When a run stops early, stderr names the cursor to go on from: --resume OPENID.

Examples:
  $ wx-followers export -f csv --bom -o followers.csv
  $ wx-followers export --state followers.state -o followers.txt
  $ wx-followers export --tag 134 --with-info -f ndjson > vip.ndjson`;

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
  const program = new Command('wx-followers')
    .description('Export the followers of a WeChat Official Account as text, CSV or NDJSON.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();

  const exportCommand = program
    .command('export')
    .description("Export the follower list (or a tag's followers, or the blacklist), page by page, to stdout or a file.")
    .option('-f, --format <format>', 'text | csv | ndjson (default: text; csv with --with-info)')
    .option('-o, --output <file>', 'write to a file (through FILE.partial; a device or FIFO straight through) instead of stdout')
    .option('--resume <openid>', "continue after this OpenID (the API's next_openid); with -o, the file must end with it")
    .option('--limit <n>', 'stop after n OpenIDs')
    .option('--state <file>', 'checkpoint file for cron: a run goes on where the last unfinished one stopped (needs --output)')
    .option('--tag <tagid>', 'the followers carrying this tag (ids: wx-followers tags)')
    .option('--blacklist', 'the blacklist instead of the followers')
    .option('--with-info', "each follower's details (batchget): subscribe time, UnionID, tags, remark... (csv or ndjson)")
    .option('--lang <lang>', 'with --with-info: zh_CN | zh_TW | en (default: zh_CN)')
    .option('--concurrency <n>', 'with --with-info: details calls in flight at once (default 8, at most 32)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, so that Excel shows Chinese text')
    .option('--no-progress', 'no spinner or bar')
    .addHelpText('after', EXPORT_HELP);
  withConnectionOptions(exportCommand).action(async (flags: ExportFlags) => {
    const [{ planExport }, { runExport }] = await Promise.all([import('../plan/export.js'), import('../run/export.js')]);
    exitCode = await planThenRun(
      io,
      () => planExport(flags, io),
      (plan, reporter) => runExport(plan, io, reporter),
    );
  });

  const tokenCommand = program
    .command('token')
    .description(
      'Print a valid access token on stdout, for scripts (from the cache, obtained from the AppID and AppSecret, or from --token-command or --token-url).',
    )
    .addHelpText('after', examples('wx-followers token', 'wx-followers token --appid wx1234567890abcdef --secret - < secret.txt'));
  withConnectionOptions(tokenCommand).action(async (flags: TokenFlags) => {
    const [{ planToken }, { runToken }] = await Promise.all([import('../plan/token.js'), import('../run/token.js')]);
    exitCode = await planThenRun(
      io,
      () => planToken(flags, io),
      (plan, reporter) => runToken(plan, io, reporter),
    );
  });

  const tagsCommand = program
    .command('tags')
    .description("List the account's tags: id, name and follower count (a table on a terminal).")
    .option('-f, --format <format>', 'text (tab-separated) | csv | ndjson (default: a table on a terminal, else text)')
    .option('--bom', 'with csv: a UTF-8 byte order mark first, for Excel')
    .addHelpText('after', examples('wx-followers tags', 'wx-followers tags -f csv --bom > tags.csv'));
  withConnectionOptions(tagsCommand).action(async (flags: TagsFlags) => {
    const [{ planTags }, { runTags }] = await Promise.all([import('../plan/tags.js'), import('../run/tags.js')]);
    exitCode = await planThenRun(
      io,
      () => planTags(flags, io),
      (plan, reporter) => runTags(plan, io, reporter),
    );
  });

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
${examples('wx-followers diff monday.txt tuesday.txt', 'wx-followers export | wx-followers diff yesterday.txt -', 'wx-followers diff -f csv --bom old.csv new.csv > changes.csv')}`,
    )
    .action(async (oldPath: string, newPath: string, options: DiffOptions) => {
      const { runDiff } = await import('../run/diff.js');
      exitCode = await runDiff(oldPath, newPath, options, io);
    });

  const config = program
    .command('config')
    .description(
      'Read and change the stored settings (access-token, appid, secret, base-url, proxy, token-command, token-url) and the token cache.',
    )
    .addHelpText(
      'after',
      examples('wx-followers config set appid wx1234567890abcdef', 'wx-followers config set secret -', 'wx-followers config path'),
    );
  config
    .command('set <key> <value>')
    .description("store a value; '-' reads it from stdin")
    .addHelpText(
      'after',
      examples(
        'wx-followers config set appid wx1234567890abcdef',
        'wx-followers config set secret -   (on a terminal: type or paste it, then Enter)',
      ),
    )
    .action(async (key: string, value: string) => {
      exitCode = await runConfigAction({ action: 'set', key, value }, io);
    });
  config
    .command('get <key>')
    .description('print a value (secrets masked)')
    .option('--reveal', 'print a secret whole', false)
    .addHelpText('after', examples('wx-followers config get appid', 'wx-followers config get secret --reveal'))
    .action(async (key: string, options: { reveal: boolean }) => {
      exitCode = await runConfigAction({ action: 'get', key, reveal: options.reveal }, io);
    });
  config
    .command('unset <key>')
    .description('remove a value; `unset token-cache` forgets the cached stable tokens')
    .addHelpText('after', examples('wx-followers config unset access-token', 'wx-followers config unset token-cache'))
    .action(async (key: string) => {
      exitCode = await runConfigAction({ action: 'unset', key }, io);
    });
  config
    .command('list')
    .description('print every value that is set (secrets masked)')
    .addHelpText('after', examples('wx-followers config list', 'WX_FOLLOWERS_CONFIG_DIR=~/.wx-shop wx-followers config list'))
    .action(async () => {
      exitCode = await runConfigAction({ action: 'list' }, io);
    });
  config
    .command('path')
    .description("print the config file's path")
    .addHelpText('after', examples('wx-followers config path', 'chmod 600 "$(wx-followers config path)"'))
    .action(async () => {
      exitCode = await runConfigAction({ action: 'path' }, io);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Commander has printed its message; a usage error is exit 2 for scripts, not commander's 1.
    return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  }
  return exitCode;
}

/** The credential and connection options that export, token and tags share. */
function withConnectionOptions(command: Command): Command {
  return command
    .option('-t, --access-token <token>', "access token; '-' reads it from stdin (env WX_ACCESS_TOKEN)")
    .option('--appid <appid>', "the account's AppID (env WX_APPID)")
    .option('--secret <secret>', "the account's AppSecret; '-' reads it from stdin (env WX_SECRET)")
    .option('--token-command <cmd>', 'take every token from this shell command: it prints the token or JSON (env WX_TOKEN_COMMAND)')
    .option('--token-url <url>', 'take every token from this service, {appid} filled in (env WX_TOKEN_URL, WX_TOKEN_URL_AUTH)')
    .option('--base-url <url>', 'API origin (default https://api.weixin.qq.com; env WX_API_BASE_URL)')
    .option('--timeout <ms>', 'per-request timeout in milliseconds (default 30000, at most 2147483647)')
    .option('--retries <n>', 'retries of a request that failed for a passing reason (default 5, at most 100)')
    .option('--proxy <url>', 'forward proxy, http://[user:password@]host:port (config key proxy; env HTTPS_PROXY, NO_PROXY)')
    .option('--no-proxy', 'no proxy this run, whatever the config or the environment say')
    .option('-q, --quiet', 'nothing on stderr but errors');
}

async function runConfigAction(request: ConfigAction, io: IOStreams): Promise<ExitCode> {
  const { runConfig } = await import('../run/config.js');
  return runConfig(request, io);
}
