import type { SharedInterrupts } from '../console/interrupts.js';
import { AccountReporter, type Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { counted, escapeText, ExitCode, grouped } from '../errors.js';
import { platformsLeftOutNotice, syncAuthorizedInstead } from '../plan/accounts.js';
import { planSyncAuthorizedAccounts, type SyncAuthorizedPlan } from '../plan/sync-authorized.js';
import type { SyncAccountsPlan } from '../plan/sync.js';
import {
  AccountsDisplay,
  eachAccount,
  labelOf,
  mostSerious,
  untilPlatformFails,
  withAccountsInterrupts,
  writeSummary,
} from './accounts.js';
import { runAuthorizedAccounts } from './authorized-accounts.js';
import { runSyncOutcome, type SyncOutcome, walkCounts } from './sync.js';

/** One account's sync as the summary tells it and --summary records it. */
interface SyncAccountOutcome extends Omit<SyncOutcome, 'status' | 'platformWide'> {
  /** Undefined for an account of --authorized: it has no profile. */
  profile: string | undefined;
  status: SyncOutcome['status'] | 'not-started';
}

type PlannedSync = SyncAccountsPlan['accounts'][number];

/**
 * Syncs each account of --profiles or --all-profiles in turn, or `concurrency` at once; at the
 * end a summary on stderr (and in --summary FILE as NDJSON), and the exit code of the most
 * serious failure, as export's.
 */
export async function runSyncAccounts(plan: SyncAccountsPlan, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  if (plan.platformsLeftOut.length > 0 && !plan.quiet) reporter.line(platformsLeftOutNotice(plan.platformsLeftOut, syncAuthorizedInstead));
  const outcomes = await withAccountsInterrupts(io, reporter, (interrupts) => syncAccounts(plan, io, reporter, interrupts));
  return finishSyncAccounts(outcomes, plan, reporter);
}

/**
 * sync --authorized: the platform's list, the accounts chosen, every account's sync planned into
 * the one database, then the syncs, as export --authorized runs its exports.
 */
export async function runSyncAuthorized(plan: SyncAuthorizedPlan, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  return runAuthorizedAccounts<SyncAccountsPlan, SyncAccountOutcome>(plan.selection, io, reporter, {
    verb: 'sync',
    needsName: false,
    plan: (accounts) => planSyncAuthorizedAccounts(plan, accounts, io),
    run: (accountsPlan, interrupts) => syncAccounts(accountsPlan, io, reporter, interrupts),
    failedBefore: (account, { exitCode, reason }) => ({
      ...account,
      ...nothingSynced(plan.database.named, exitCode, reason),
      status: 'failed',
    }),
    finish: (outcomes) => finishSyncAccounts(outcomes, plan.selection, reporter),
  });
}

/**
 * Each account's sync, with its own reporter, connection, token and lock (one database may hold
 * them all); one failing is reported and the others go on, unless it failed for a reason every
 * account would meet (a platform's).
 */
async function syncAccounts(
  plan: SyncAccountsPlan,
  io: IOStreams,
  reporter: Reporter,
  interrupts: SharedInterrupts,
): Promise<SyncAccountOutcome[]> {
  const display = new AccountsDisplay(reporter, plan, io.stderrIsTTY, 'syncing');
  const syncOne = async ({ profile, sync }: PlannedSync, accountIo: IOStreams) => {
    const signal = interrupts.received;
    if (signal !== undefined) {
      return {
        outcome: notStarted({ profile, sync }, signalExitCode(signal), `Interrupted (${signal}) before it started.`),
        platformWide: false,
      };
    }
    const label = labelOf({ profile, appid: sync.appid });
    display.started(label);
    const { platformWide, ...result } = await runSyncOutcome(sync, accountIo, new AccountReporter(io, label, reporter));
    const outcome: SyncAccountOutcome = { profile, ...result };
    display.finished(label, outcome);
    return { outcome, platformWide };
  };
  return eachAccount(plan.accounts, plan.concurrency, io, interrupts, untilPlatformFails(syncOne, notStarted));
}

/** The summary on stderr and in --summary, and the run's exit code. */
async function finishSyncAccounts(
  outcomes: readonly SyncAccountOutcome[],
  plan: { summaryPath: string | undefined; quiet: boolean },
  reporter: Reporter,
): Promise<ExitCode> {
  printSummary(outcomes, reporter, plan.quiet);
  if (plan.summaryPath === undefined) return mostSerious(outcomes.map((outcome) => outcome.exitCode));
  return writeSummary(plan.summaryPath, outcomes, reporter);
}

function notStarted({ profile, sync }: PlannedSync, exitCode: ExitCode, reason: string): SyncAccountOutcome {
  return { profile, appid: sync.appid, ...nothingSynced(sync.database.named, exitCode, reason), status: 'not-started' };
}

/** The outcome of an account that synced nothing: no followers, no cursor, why. */
function nothingSynced(database: string, exitCode: ExitCode, reason: string) {
  return { exitCode, database, followers: 0, walked: 0, joined: 0, left: 0, baseline: false, cursor: undefined, details: 0, reason };
}

/** Each account in a line; under --quiet only those that did not finish. */
function printSummary(outcomes: readonly SyncAccountOutcome[], reporter: Reporter, quiet: boolean): void {
  const shown = quiet ? outcomes.filter((outcome) => outcome.exitCode !== ExitCode.Ok) : outcomes;
  if (shown.length === 0) return;
  const finished = outcomes.filter((outcome) => outcome.exitCode === ExitCode.Ok).length;
  reporter.line(`wx-followers: ${finished} of ${counted(outcomes.length, 'account')} synced:`);
  for (const outcome of shown) reporter.line(`  ${labelOf(outcome)}: ${summaryLine(outcome)}`);
}
function summaryLine(outcome: SyncAccountOutcome): string {
  const into = `into ${escapeText(outcome.database)}`;
  const ofWalk = outcome.walked > outcome.followers ? ` (${grouped(outcome.walked)} of this walk)` : '';
  const seen = `${counted(outcome.followers, 'follower')} this run${ofWalk}, ${grouped(outcome.joined)} joined`;
  // Without a cursor the next sync starts the walk afresh: nothing to go on from (nor, for an account that failed before its sync, to say).
  const next = outcome.cursor === undefined ? '' : `; the next sync goes on after ${outcome.cursor}`;
  switch (outcome.status) {
    case 'complete':
      if (!outcome.baseline) return `complete ${into}, ${walkCounts(outcome)}`;
      return `complete (baseline) ${into}, ${counted(outcome.walked, 'follower')}${outcome.walked > outcome.followers ? ` (${grouped(outcome.followers)} seen by this run)` : ''}`;
    case 'stopped':
      return `stopped early ${into}, ${seen}${next}`;
    case 'not-started':
      return `not started (exit ${outcome.exitCode}): ${outcome.reason ?? ''}`;
    case 'interrupted':
    case 'failed':
      return `${outcome.status} (exit ${outcome.exitCode}) ${into}, ${seen}${next}: ${outcome.reason ?? ''}`;
  }
}
