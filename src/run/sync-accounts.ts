import { AccountReporter, type Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { counted, escapeText, ExitCode, grouped } from '../errors.js';
import type { SyncAccountsPlan, SyncPlan } from '../plan/sync.js';
import { exportAuthorizedInstead, platformsLeftOutNotice } from '../plan/accounts.js';
import { AccountsDisplay, accountsInterrupts, eachAccount, mostSerious, writeSummary } from './accounts.js';
import { runSyncOutcome, type SyncOutcome, walkCounts } from './sync.js';

/** One account's sync as the summary tells it and --summary records it. */
interface SyncAccountOutcome extends Omit<SyncOutcome, 'status'> {
  profile: string;
  status: SyncOutcome['status'] | 'not-started';
}

/**
 * Syncs each account in turn, or `concurrency` at once, each with its own reporter, connection,
 * token and lock (one database may hold them all); one failing is reported and the others go on.
 * At the end a summary on stderr (and in --summary FILE as NDJSON), and the exit code of the most
 * serious failure, as export's.
 */
export async function runSyncAccounts(plan: SyncAccountsPlan, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  if (plan.platformsLeftOut.length > 0 && !plan.quiet)
    reporter.line(platformsLeftOutNotice(plan.platformsLeftOut, exportAuthorizedInstead));
  const display = new AccountsDisplay(reporter, plan, io.stderrIsTTY, 'syncing');
  const interrupts = accountsInterrupts(io, reporter);
  let outcomes: SyncAccountOutcome[];
  try {
    outcomes = await eachAccount(plan.accounts, plan.concurrency, io, interrupts, async ({ profile, sync }, accountIo) => {
      const signal = interrupts.received;
      if (signal !== undefined) return notStarted(profile, sync, signalExitCode(signal), `Interrupted (${signal}) before it started.`);
      display.started(profile);
      const outcome: SyncAccountOutcome = {
        profile,
        ...(await runSyncOutcome(sync, accountIo, new AccountReporter(io, profile, reporter))),
      };
      display.finished(profile, outcome);
      return outcome;
    });
  } finally {
    interrupts.close();
  }
  printSummary(outcomes, reporter, plan.quiet);
  if (plan.summaryPath === undefined) return mostSerious(outcomes.map((outcome) => outcome.exitCode));
  return writeSummary(plan.summaryPath, outcomes, reporter);
}

function notStarted(profile: string, sync: SyncPlan, exitCode: ExitCode, reason: string): SyncAccountOutcome {
  return {
    profile,
    status: 'not-started',
    exitCode,
    appid: sync.appid,
    database: sync.database.named,
    followers: 0,
    walked: 0,
    joined: 0,
    left: 0,
    baseline: false,
    cursor: undefined,
    details: 0,
    reason,
  };
}

/** Each account in a line; under --quiet only those that did not finish. */
function printSummary(outcomes: readonly SyncAccountOutcome[], reporter: Reporter, quiet: boolean): void {
  const shown = quiet ? outcomes.filter((outcome) => outcome.exitCode !== ExitCode.Ok) : outcomes;
  if (shown.length === 0) return;
  const finished = outcomes.filter((outcome) => outcome.exitCode === ExitCode.Ok).length;
  reporter.line(`wx-followers: ${finished} of ${counted(outcomes.length, 'account')} synced:`);
  for (const outcome of shown) reporter.line(`  ${outcome.profile}: ${summaryLine(outcome)}`);
}

function summaryLine(outcome: SyncAccountOutcome): string {
  const into = `into ${escapeText(outcome.database)}`;
  const ofWalk = outcome.walked > outcome.followers ? ` (${grouped(outcome.walked)} of this walk)` : '';
  const seen = `${counted(outcome.followers, 'follower')} this run${ofWalk}, ${grouped(outcome.joined)} joined`;
  const next = `; the next sync goes on ${outcome.cursor === undefined ? 'from the first page' : `after ${outcome.cursor}`}`;
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
