import { SharedInterrupts } from '../console/interrupts.js';
import { AccountReporter, type Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { counted, escapeText, ExitCode } from '../errors.js';
import { replaceFileAtomically } from '../out/platform-fs.js';
import type { AccountPlan, AccountsPlan } from '../plan/accounts.js';
import { runExportOutcome } from './export.js';

/** How one account's export ended, as the summary tells it and --summary records it. */
interface AccountOutcome {
  profile: string;
  appid: string | undefined;
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
  const display = new AccountsDisplay(reporter, plan, io.stderrIsTTY);
  const outcomes = await eachAccount(plan.accounts, plan.concurrency, io, reporter, (account, accountIo, interrupts) =>
    exportAccount(account, accountIo, interrupts, display),
  );
  printSummary(outcomes, reporter, plan.quiet);
  if (plan.summaryPath === undefined) return mostSerious(outcomes.map((outcome) => outcome.exitCode));
  return writeSummary(plan.summaryPath, outcomes, reporter);
}

/**
 * Runs `each` on every account, `concurrency` of them at once, each listening for interrupts
 * through one shared handler: the first signal stops every account under way after its page in
 * hand, and no other starts (each account's run is told at once when it subscribes).
 */
export async function eachAccount<Account, Outcome>(
  accounts: readonly Account[],
  concurrency: number,
  io: IOStreams,
  reporter: Reporter,
  each: (account: Account, io: IOStreams, interrupts: SharedInterrupts) => Promise<Outcome>,
): Promise<Outcome[]> {
  const interrupts = new SharedInterrupts(io, (signal) => {
    reporter.line(`wx-followers: ${signal}: every account under way finishes its page in hand, then stops; no other starts.`);
  });
  // Each account's run listens through the shared handler: one listener for the process.
  const accountIo: IOStreams = { ...io, onInterrupt: (handler, onQuit) => interrupts.onInterrupt(handler, onQuit) };
  const outcomes: Outcome[] = new Array(accounts.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < accounts.length) {
      const index = next;
      next += 1;
      outcomes[index] = await each(accounts[index] as Account, accountIo, interrupts);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
  } finally {
    interrupts.close();
  }
  return outcomes;
}

/** --summary FILE: each account's outcome as a line of JSON; a summary that cannot be written is exit 1 at least. */
export async function writeSummary(path: string, outcomes: readonly { exitCode: ExitCode }[], reporter: Reporter): Promise<ExitCode> {
  try {
    await replaceFileAtomically(path, outcomes.map((outcome) => `${JSON.stringify(outcome)}\n`).join(''), 0o644);
  } catch (error) {
    reporter.line(
      `wx-followers: the summary could not be written to ${escapeText(path)} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'}).`,
    );
    return mostSerious([...outcomes.map((outcome) => outcome.exitCode), ExitCode.Failure]);
  }
  return mostSerious(outcomes.map((outcome) => outcome.exitCode));
}

async function exportAccount(
  account: AccountPlan,
  io: IOStreams,
  interrupts: SharedInterrupts,
  display: AccountsDisplay,
): Promise<AccountOutcome> {
  const { export: plan } = account;
  const base = {
    profile: account.profile,
    appid: account.appid,
    output: plan.output.kind === 'stdout' ? undefined : plan.output.path,
    state: plan.state?.path,
  };
  if (account.doneEarlier) {
    const written = plan.state?.read?.written ?? 0;
    return { ...base, status: 'done-earlier', exitCode: ExitCode.Ok, written, cursor: undefined, reason: undefined };
  }
  const signal = interrupts.received;
  if (signal !== undefined) {
    const exitCode = signalExitCode(signal);
    return {
      ...base,
      status: 'not-started',
      exitCode,
      written: plan.writtenBefore,
      cursor: plan.resume,
      reason: `Interrupted (${signal}) before it started.`,
    };
  }
  display.started(account.profile);
  const result = await runExportOutcome(plan, io, new AccountReporter(io, account.profile));
  const outcome: AccountOutcome = { ...base, ...result, status: statusOf(result.exitCode, result.limitReached) };
  if (outcome.status === 'done') outcome.cursor = undefined;
  display.finished(outcome);
  return outcome;
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
  const shown = quiet ? outcomes.filter((outcome) => outcome.exitCode !== ExitCode.Ok) : outcomes;
  if (shown.length === 0) return;
  const finished = outcomes.filter((outcome) => outcome.exitCode === ExitCode.Ok).length;
  reporter.line(`wx-followers: ${finished} of ${counted(outcomes.length, 'account')} finished:`);
  for (const outcome of shown) reporter.line(`  ${outcome.profile}: ${summaryLine(outcome)}`);
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
  readonly #doing: string;
  #ended = 0;

  /** `doing`: what each account's run does, as the line says it ("exporting"). */
  constructor(
    reporter: Reporter,
    plan: { accounts: readonly unknown[]; progress: boolean; quiet: boolean },
    stderrIsTTY: boolean,
    doing = 'exporting',
  ) {
    this.#reporter = reporter;
    this.#total = plan.accounts.length;
    this.#shown = plan.progress && !plan.quiet && stderrIsTTY;
    this.#doing = doing;
  }

  started(profile: string): void {
    if (this.#shown) this.#reporter.line(`wx-followers: [${this.#ended}/${this.#total} done] ${this.#doing} ${profile}...`);
  }

  finished(outcome: { profile: string; status: string }): void {
    this.#ended += 1;
    if (this.#shown) this.#reporter.line(`wx-followers: [${this.#ended}/${this.#total} done] ${outcome.profile}: ${outcome.status}`);
  }
}
