import { SharedInterrupts } from '../console/interrupts.js';
import { AccountReporter, type Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { counted, escapeText, ExitCode, shown } from '../errors.js';
import { replaceFileAtomically } from '../out/platform-fs.js';
import { type AccountPlan, type AccountsPlan, exportAuthorizedInstead, platformsLeftOutNotice } from '../plan/accounts.js';
import { runExportOutcome } from './export.js';

/** How one account's export ended, as the summary tells it and --summary records it. */
export interface AccountOutcome {
  /** Undefined for an account of --authorized: it has no profile. */
  profile: string | undefined;
  appid: string | undefined;
  /** With --authorized and {name}: the account's name as the platform gave it. */
  name?: string | undefined;
  status: 'done' | 'limit' | 'failed' | 'interrupted' | 'done-earlier' | 'not-started';
  exitCode: ExitCode;
  /** OpenIDs in its output (those of earlier runs of a --state export included). */
  written: number;
  output: string | undefined;
  state: string | undefined;
  /** Where its next run goes on from, when it did not finish. */
  cursor: string | undefined;
  reason: string | undefined;
}

/**
 * Exports each account in turn, or `concurrency` of them at once, each with its own reporter,
 * connection, token and files; one failing is reported and the others go on. At the end a
 * summary on stderr (and in --summary FILE as NDJSON), and the exit code of the most serious failure.
 */
export async function runAccounts(plan: AccountsPlan, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  const leftOut = plan.platformsLeftOut ?? [];
  if (leftOut.length > 0 && !plan.quiet) reporter.line(platformsLeftOutNotice(leftOut, exportAuthorizedInstead));
  const outcomes = await withAccountsInterrupts(io, reporter, (interrupts) => exportAccounts(plan, io, reporter, interrupts));
  return finishAccounts(outcomes, plan, reporter);
}

/** `work` with the one listener for the process's interrupts that every account's run shares, closed after. */
export async function withAccountsInterrupts<T>(
  io: IOStreams,
  reporter: Reporter,
  work: (interrupts: SharedInterrupts) => Promise<T>,
): Promise<T> {
  const interrupts = new SharedInterrupts(io, (signal) => {
    reporter.line(`wx-followers: ${signal}: every account under way finishes its page in hand, then stops; no other starts.`);
  });
  try {
    return await work(interrupts);
  } finally {
    interrupts.close();
  }
}

/**
 * Runs `each` on every account, `concurrency` of them at once, each outcome in the accounts'
 * order. Each account's run listens through `interrupts`, one listener for the process: the first
 * signal stops every account under way after its page in hand, and no other starts (each run is
 * told at once when it subscribes).
 */
export async function eachAccount<Account, Outcome>(
  accounts: readonly Account[],
  concurrency: number,
  io: IOStreams,
  interrupts: SharedInterrupts,
  each: (account: Account, io: IOStreams) => Promise<Outcome>,
): Promise<Outcome[]> {
  const accountIo: IOStreams = { ...io, onInterrupt: (handler, onQuit) => interrupts.onInterrupt(handler, onQuit) };
  const outcomes: Outcome[] = new Array(accounts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accounts.length) {
      const index = next;
      next += 1;
      outcomes[index] = await each(accounts[index] as Account, accountIo);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
  return outcomes;
}

/**
 * The accounts' exports, `plan.concurrency` at once, each outcome in the plan's order; after a
 * failure every account would meet, the others are "not started" (untilPlatformFails).
 */
export async function exportAccounts(
  plan: AccountsPlan,
  io: IOStreams,
  reporter: Reporter,
  interrupts: SharedInterrupts,
): Promise<AccountOutcome[]> {
  const display = new AccountsDisplay(reporter, plan, io.stderrIsTTY, 'exporting');
  return eachAccount(
    plan.accounts,
    plan.concurrency,
    io,
    interrupts,
    untilPlatformFails(
      (account, accountIo) => exportAccount(account, accountIo, { interrupts, display, reporter }),
      (account, exitCode, reason) => notStarted(account, exitCode, reason),
    ),
  );
}

/**
 * An account's run for eachAccount that, once an account met a failure every account would meet
 * (a third-party platform's: this IP off its whitelist, its token refused), starts no other: those
 * are "not started", with that failure's exit code and why.
 */
export function untilPlatformFails<Account, Outcome extends Labelled & { exitCode: ExitCode; reason?: string | undefined }>(
  run: (account: Account, io: IOStreams) => Promise<{ outcome: Outcome; platformWide: boolean }>,
  notStartedAfter: (account: Account, exitCode: ExitCode, reason: string) => Outcome,
): (account: Account, io: IOStreams) => Promise<Outcome> {
  let stoppedBy: { label: string; exitCode: ExitCode; reason: string } | undefined;
  return async (account, accountIo) => {
    if (stoppedBy !== undefined) {
      return notStartedAfter(account, stoppedBy.exitCode, `${stoppedBy.label} met a failure every account would meet: ${stoppedBy.reason}`);
    }
    const { outcome, platformWide } = await run(account, accountIo);
    if (platformWide && stoppedBy === undefined)
      stoppedBy = { label: labelOf(outcome), exitCode: outcome.exitCode, reason: outcome.reason ?? '' };
    return outcome;
  };
}

/** The summary on stderr and in --summary, and the run's exit code. */
export async function finishAccounts(
  outcomes: readonly AccountOutcome[],
  plan: { summaryPath: string | undefined; quiet: boolean },
  reporter: Reporter,
): Promise<ExitCode> {
  printSummary(outcomes, reporter, plan.quiet);
  if (plan.summaryPath === undefined) return mostSerious(outcomes.map((outcome) => outcome.exitCode));
  return writeSummary(plan.summaryPath, outcomes, reporter);
}

/** --summary FILE: each account's outcome as a line of JSON; a summary that cannot be written is exit 1 at least. */
export async function writeSummary(
  path: string,
  outcomes: readonly { exitCode: ExitCode; reason?: string | undefined }[],
  reporter: Reporter,
): Promise<ExitCode> {
  // The last guard, as stderr has: a reason quoting an errmsg may quote a secret the run knows.
  const summarised = outcomes.map((outcome) =>
    outcome.reason === undefined ? outcome : { ...outcome, reason: reporter.redact(outcome.reason) },
  );
  try {
    await replaceFileAtomically(path, summarised.map((outcome) => `${JSON.stringify(outcome)}\n`).join(''), 0o644);
  } catch (error) {
    reporter.line(
      `wx-followers: the summary could not be written to ${escapeText(path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}).`,
    );
    return mostSerious([...outcomes.map((outcome) => outcome.exitCode), ExitCode.Failure]);
  }
  return mostSerious(outcomes.map((outcome) => outcome.exitCode));
}

/** What names an account in summary lines and its messages. */
interface Labelled {
  profile: string | undefined;
  appid: string | undefined;
  name?: string | undefined;
}

/** How summary lines and each account's messages name it: its profile, else its AppID (and name, escaped). */
export function labelOf(account: Labelled): string {
  if (account.profile !== undefined) return account.profile;
  const appid = account.appid ?? '?';
  return account.name === undefined || account.name === '' ? appid : `${appid} (${shown(account.name, 60)})`;
}

function baseOf(account: AccountPlan): Pick<AccountOutcome, 'profile' | 'appid' | 'name' | 'output' | 'state'> {
  const { export: plan } = account;
  return {
    profile: account.profile,
    appid: account.appid,
    ...(account.name === undefined ? {} : { name: account.name }),
    output: plan.output.kind === 'stdout' ? undefined : plan.output.path,
    state: plan.state?.path,
  };
}

function notStarted(account: AccountPlan, exitCode: ExitCode, reason: string): AccountOutcome {
  const { export: plan } = account;
  return { ...baseOf(account), status: 'not-started', exitCode, written: plan.writtenBefore, cursor: plan.resume, reason };
}

async function exportAccount(
  account: AccountPlan,
  io: IOStreams,
  { interrupts, display, reporter }: { interrupts: SharedInterrupts; display: AccountsDisplay; reporter: Reporter },
): Promise<{ outcome: AccountOutcome; platformWide: boolean }> {
  const { export: plan } = account;
  const base = baseOf(account);
  if (account.doneEarlier) {
    const written = plan.state?.read?.written ?? 0;
    return {
      outcome: { ...base, status: 'done-earlier', exitCode: ExitCode.Ok, written, cursor: undefined, reason: undefined },
      platformWide: false,
    };
  }
  const signal = interrupts.received;
  if (signal !== undefined) {
    return { outcome: notStarted(account, signalExitCode(signal), `Interrupted (${signal}) before it started.`), platformWide: false };
  }
  const label = labelOf(account);
  display.started(label);
  const { platformWide, ...result } = await runExportOutcome(plan, io, new AccountReporter(io, label, reporter));
  const outcome: AccountOutcome = { ...base, ...result, status: statusOf(result.exitCode, result.limitReached) };
  if (outcome.status === 'done') outcome.cursor = undefined;
  display.finished(label, outcome);
  return { outcome, platformWide };
}

export const SIGNAL_CODES: readonly ExitCode[] = [ExitCode.HungUp, ExitCode.Interrupted, ExitCode.Terminated, ExitCode.Broken];

function statusOf(exitCode: ExitCode, limitReached: boolean): AccountOutcome['status'] {
  if (exitCode === ExitCode.Ok) return limitReached ? 'limit' : 'done';
  return SIGNAL_CODES.includes(exitCode) ? 'interrupted' : 'failed';
}

/**
 * The exit code of a run over several accounts: 0 when each finished; else a signal's code
 * first (the person stopped the run), then a usage error (the command must change), then the
 * first of 1, 3, 4, 5 that some account ended with: an output or unexpected failure, refused
 * credentials, a spent quota, a failing API or network.
 */
export function mostSerious(codes: readonly ExitCode[]): ExitCode {
  const order: readonly ExitCode[] = [
    ...SIGNAL_CODES,
    ExitCode.Usage,
    ExitCode.Failure,
    ExitCode.Credentials,
    ExitCode.Quota,
    ExitCode.Api,
  ];
  for (const code of order) if (codes.includes(code)) return code;
  return codes.find((code) => code !== ExitCode.Ok) ?? ExitCode.Ok;
}

/** The summary on stderr: each account, what it wrote, and how it ended. Under --quiet only the accounts that did not finish. */
function printSummary(outcomes: readonly AccountOutcome[], reporter: Reporter, quiet: boolean): void {
  const listed = quiet ? outcomes.filter((outcome) => outcome.exitCode !== ExitCode.Ok) : outcomes;
  if (listed.length === 0) return;
  const finished = outcomes.filter((outcome) => outcome.exitCode === ExitCode.Ok).length;
  reporter.line(`wx-followers: ${finished} of ${counted(outcomes.length, 'account')} finished:`);
  for (const outcome of listed) reporter.line(`  ${labelOf(outcome)}: ${summaryLine(outcome)}`);
}

function summaryLine(outcome: AccountOutcome): string {
  const where = outcome.output === undefined ? '' : ` in ${escapeText(outcome.output)}`;
  const rows = `${counted(outcome.written, 'OpenID')}${where}`;
  const from = `after ${counted(outcome.written, 'OpenID')}${outcome.cursor === undefined ? '' : `; it goes on after ${outcome.cursor}`}`;
  switch (outcome.status) {
    case 'done':
      return `done, ${rows}`;
    case 'done-earlier':
      return `done by an earlier run (its --state says so), ${rows}`;
    case 'limit':
      return `stopped at --limit ${from}`;
    case 'not-started':
      return `not started (exit ${outcome.exitCode}): ${outcome.reason ?? ''}`;
    case 'interrupted':
    case 'failed':
      return `${outcome.status} (exit ${outcome.exitCode}) ${from}: ${outcome.reason ?? ''}`;
  }
}

/**
 * What a person watching a run over several accounts sees: which account starts, and a line for
 * each that ends with how many are done. Only on a terminal, with progress on; each account's
 * own spinner and bar stay off, as several would draw over each other.
 */
export class AccountsDisplay {
  readonly #reporter: Reporter;
  readonly #shown: boolean;
  readonly #total: number;
  /** What each account's run does, as the line says it ("exporting", "syncing"). */
  readonly #doing: string;
  #ended = 0;

  constructor(
    reporter: Reporter,
    plan: { accounts: readonly unknown[]; progress: boolean; quiet: boolean },
    stderrIsTTY: boolean,
    doing: string,
  ) {
    this.#reporter = reporter;
    this.#total = plan.accounts.length;
    this.#shown = plan.progress && !plan.quiet && stderrIsTTY;
    this.#doing = doing;
  }

  started(label: string): void {
    if (this.#shown) this.#reporter.line(`wx-followers: [${this.#ended}/${this.#total} done] ${this.#doing} ${label}...`);
  }

  finished(label: string, outcome: { status: string }): void {
    this.#ended += 1;
    if (this.#shown) this.#reporter.line(`wx-followers: [${this.#ended}/${this.#total} done] ${label}: ${outcome.status}`);
  }
}
