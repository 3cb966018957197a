import { setMaxListeners } from 'node:events';
import { CallBudgetSpent, type ApiClient } from '../api/client.js';
import { DETAILS_BATCH_SIZE, fetchDetails } from '../api/endpoints/batchget.js';
import { listSource } from '../api/endpoints/lists.js';
import { createProgress, type Progress } from '../console/progress.js';
import { Reporter } from '../console/report.js';
import { signalExitCode, type InterruptSignal, type IOStreams } from '../console/streams.js';
import { counted, ExitCode, grouped, shown, WxError } from '../errors.js';
import { isOpenidShape } from '../openid.js';
import type { Database } from '../out/db/database.js';
import { FollowerStore, type SyncRun } from '../out/db/follower-store.js';
import { migrate } from '../out/db/migrate.js';
import { openDatabase } from '../out/db/open.js';
import { MAX_CONCURRENCY } from '../plan/export.js';
import type { SyncDetailsPlan, SyncPlan } from '../plan/sync.js';
import { connect } from './connect.js';
import { againToQuit, goingOnAfter, type GoingOn } from './export-messages.js';
import { mapInOrder } from './in-order.js';
import { UnknownStartError } from './pages.js';
import { readAhead } from './read-ahead.js';
import { untilReset } from './quota-reset.js';
import { SIGNAL_CODES } from './accounts.js';

/** How one sync ended, for its summary line and for a run over several accounts. */
export interface SyncOutcome {
  exitCode: ExitCode;
  /** complete: the walk reached the end of the list; stopped: --limit or --max-calls; else how it failed. */
  status: 'complete' | 'stopped' | 'failed' | 'interrupted';
  appid: string;
  database: string;
  /** OpenIDs this run saw, those joined, and those the end of the walk found gone. */
  followers: number;
  /** OpenIDs the walk saw, this run's and its earlier runs' (a walk continued): the account's followers once it is complete. */
  walked: number;
  joined: number;
  left: number;
  /** The walk was the account's baseline: no changes recorded. */
  baseline: boolean;
  /** Where the next run goes on, when the walk is not complete. */
  cursor: string | undefined;
  /** Details fetched this run (--with-info). */
  details: number;
  /** Why it stopped or failed, in a line. */
  reason: string | undefined;
  /** It failed for a reason every account of a third-party platform would meet (WxError.platformWide). */
  platformWide: boolean;
}

/** What a run holds and how far it got: each is let go of however it ends. */
interface Held {
  db?: Database;
  release?: () => Promise<void>;
  store?: FollowerStore;
  run?: SyncRun;
  client?: ApiClient;
  progress?: Progress;
  /** A page is being committed: a first signal lets it finish. */
  writing: boolean;
  /** How the walk ended, once its row records it (complete, or stopped at --limit or --max-calls): a later failure leaves the row be. */
  ending?: WalkEnding;
  tally: { followers: number; joined: number; left: number; cursor: string | undefined; total: number | undefined; details: number };
}

type WalkEnding = 'complete' | 'limit' | 'max-calls';

interface RunContext {
  io: IOStreams;
  reporter: Reporter;
  signal: AbortSignal;
}

/** The run's clock, in unix seconds: what every time in the database is. */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export async function runSync(plan: SyncPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  return (await runSyncOutcome(plan, io, reporter)).exitCode;
}

/**
 * Brings the database up to date with the account's list: the lock, the run's row, the walk (a
 * page a transaction), who left at the end of a complete walk, then the details wanted. Interrupts
 * come through io.onInterrupt, which a run over several accounts shares out.
 */
export async function runSyncOutcome(plan: SyncPlan, io: IOStreams, reporter: Reporter): Promise<SyncOutcome> {
  const held: Held = {
    writing: false,
    tally: { followers: 0, joined: 0, left: 0, cursor: undefined, total: undefined, details: 0 },
  };
  for (const secret of plan.database.secrets) reporter.addSecret(secret);
  const interruption = new AbortController();
  setMaxListeners(2 * MAX_CONCURRENCY + 8, interruption.signal);
  const stopListening = io.onInterrupt(
    (signal) => {
      held.progress?.stop();
      const what = held.writing ? 'committing the page in hand, then stopping' : 'stopping (no page in hand)';
      reporter.line(`wx-followers: ${signal}: ${what}. ${againToQuit(signal)} quits at once.`);
      interruption.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal)));
    },
    (signal) => quitNow(signal, held, reporter),
  );
  const context = { io, reporter, signal: interruption.signal };
  try {
    const status = await syncWith(plan, held, context);
    if (!plan.quiet) reporter.line(summaryLine(plan, held));
    return outcomeOf(plan, held, { exitCode: ExitCode.Ok, status });
  } catch (error) {
    return await reportFailure(error, plan, held, reporter);
  } finally {
    stopListening();
    await held.client?.close();
    await held.release?.().catch(() => undefined);
    await held.db?.close().catch(() => undefined);
  }
}

/** Opens, locks and migrates the database, starts the run, walks, and fetches the details. */
async function syncWith(plan: SyncPlan, held: Held, context: RunContext): Promise<SyncOutcome['status']> {
  const db = await openDatabase(plan.database.target, { readOnly: false, env: context.io.env });
  held.db = db;
  held.release = await db.lockAccount(plan.appid);
  await migrate(db);
  const store = new FollowerStore(db, plan.appid);
  held.store = store;
  held.run = await store.beginRun({ restart: plan.restart, now: nowSeconds() });
  held.tally.cursor = held.run.cursor;
  const progress = await createProgress(context.io, { progress: plan.progress, quiet: plan.quiet });
  held.progress = progress;
  const connection = connect(plan.connection, context.reporter, {
    signal: context.signal,
    onWait: (reason) => progress.note(reason),
    waitsShown: progress.shown,
    connections: plan.details?.concurrency ?? 1,
    ...(plan.maxCalls === undefined ? {} : { maxCalls: plan.maxCalls }),
  });
  held.client = connection.client;
  held.ending = await walk(plan, held, context);
  if (held.ending === 'max-calls') {
    progress.stop();
    return 'stopped';
  }
  progress.succeed(walkLine(held));
  if (plan.details !== undefined) await fetchWantedDetails(plan.details, plan.quiet, held, context);
  return held.ending === 'complete' ? 'complete' : 'stopped';
}

/**
 * The walk, from the run's cursor: each page committed with the cursor after it, so that a stop
 * anywhere leaves the database at a page's end. A continued walk whose cursor the API no longer
 * knows (that follower left since) starts again from the first page.
 */
async function walk(plan: SyncPlan, held: Held, context: RunContext): Promise<WalkEnding> {
  const { store, progress } = held;
  let { run } = held;
  if (store === undefined || run === undefined || progress === undefined) throw new Error('The walk needs a run.');
  progress.start('follower list');
  const ahead = context.io.env['WX_FOLLOWERS_TEST_NO_READ_AHEAD'] === undefined;
  run = await refuseMalformedCursor(plan, held, run, context.reporter);
  try {
    try {
      return await walkFrom(plan, held, run, ahead);
    } catch (error) {
      if (!(error instanceof UnknownStartError) || error.otherAccount || run.cursor === undefined) throw error;
      if (!plan.quiet) {
        context.reporter.line(
          `wx-followers: the API no longer knows ${run.cursor}, where the walk this run was to continue stopped (that follower left since): walking the list again from its first page.`,
        );
      }
      run = await store.restartWalk(run);
      held.run = run;
      return await walkFrom(plan, held, run, ahead);
    }
  } catch (error) {
    if (!(error instanceof CallBudgetSpent)) throw error;
    await store.endRun(run, `--max-calls ${plan.maxCalls} reached`, nowSeconds());
    return 'max-calls';
  }
}

/**
 * A cursor that is not an OpenID's shape (wx_runs edited by hand, or by another program) is never
 * sent: the API would refuse it, for a call of the day's quota. The walk starts again instead.
 */
async function refuseMalformedCursor(plan: SyncPlan, held: Held, run: SyncRun, reporter: Reporter): Promise<SyncRun> {
  if (run.cursor === undefined || isOpenidShape(run.cursor) || held.store === undefined) return run;
  if (!plan.quiet) {
    reporter.line(
      `wx-followers: the walk this run was to continue stopped at '${shown(run.cursor, 80)}', which is not an OpenID (was wx_runs edited?): walking the list again from its first page.`,
    );
  }
  const restarted = await held.store.restartWalk(run);
  held.run = restarted;
  held.tally.cursor = undefined;
  return restarted;
}

async function walkFrom(plan: SyncPlan, held: Held, run: SyncRun, ahead: boolean): Promise<'complete' | 'limit'> {
  const { store, client, progress, tally } = held as Required<Held>;
  const pages = readAhead(listSource({ kind: 'followers' }, client), run.cursor, { limit: plan.limit, ahead });
  for await (const page of pages) {
    held.writing = true;
    // A page cut at --limit goes on after its last OpenID kept, not after the page's own end.
    const cursor = pages.limitReached ? (page.openids.at(-1) ?? page.nextOpenid) : page.nextOpenid;
    const saved = await store.savePage(run, { openids: page.openids, cursor, total: page.total }, nowSeconds());
    tally.followers += saved.followers;
    tally.joined += saved.joined;
    tally.cursor = cursor;
    tally.total = page.total;
    held.writing = false;
    progress.advance(run.walkedBefore + tally.followers, page.total);
  }
  if (pages.limitReached) {
    await store.endRun(run, `--limit ${plan.limit} reached`, nowSeconds());
    return 'limit';
  }
  tally.left = (await store.finishWalk(run, nowSeconds())).left;
  tally.cursor = undefined;
  return 'complete';
}

/**
 * The details of the followers that have none yet (joined since the last run) or whose details
 * are older than --details-max-age, in batches of 100, a batch's answer stored as it comes. A spent
 * batchget quota (or --max-calls) ends this part only: the rest waits for the next run.
 */
async function fetchWantedDetails(details: SyncDetailsPlan, quiet: boolean, held: Held, { reporter, signal }: RunContext): Promise<void> {
  const { store, client, run } = held;
  if (store === undefined || client === undefined || run === undefined) throw new Error('The details need a run.');
  const olderThan = nowSeconds() - details.maxAgeSeconds;
  const batches = async function* (): AsyncGenerator<string[]> {
    let after: string | undefined;
    for (;;) {
      const openids = await store.detailsWanted({ after, olderThan, limit: DETAILS_BATCH_SIZE });
      if (openids.length === 0) return;
      yield openids;
      after = openids.at(-1);
    }
  };
  const answers = mapInOrder(batches(), details.concurrency, (openids, batchSignal) =>
    fetchDetails(client, openids, details.lang, AbortSignal.any([signal, batchSignal])),
  );
  try {
    for await (const infos of answers) {
      await store.saveDetails(infos, nowSeconds());
      held.tally.details += infos.length;
    }
  } catch (error) {
    const quotaSpent = error instanceof WxError && error.errcode === 45009;
    if (!quotaSpent && !(error instanceof CallBudgetSpent)) throw error;
    if (quiet) return;
    const why = quotaSpent
      ? `today's batchget quota is spent (it resets 00:00 China Standard Time, ${untilReset(Date.now())})`
      : 'the --max-calls budget is spent';
    reporter.line(`wx-followers: ${why}: ${counted(held.tally.details, 'follower')}' details fetched; the rest wait for the next sync.`);
  }
}

function outcomeOf(
  plan: SyncPlan,
  held: Held,
  { exitCode, status, reason, error }: { exitCode: ExitCode; status: SyncOutcome['status']; reason?: string; error?: unknown },
): SyncOutcome {
  const { tally } = held;
  return {
    exitCode,
    status,
    appid: plan.appid,
    database: plan.database.named,
    followers: tally.followers,
    walked: walkedOf(held),
    joined: tally.joined,
    left: tally.left,
    baseline: held.run?.baseline ?? false,
    cursor: status === 'complete' ? undefined : tally.cursor,
    details: tally.details,
    reason,
    platformWide: error instanceof WxError && error.platformWide,
  };
}

/** What the walk did, in a line: the progress display's last word on a terminal. */
function walkLine(held: Held): string {
  const { tally } = held;
  return `Walked ${counted(tally.followers, 'follower')}${tally.total === undefined ? '' : ` of ${counted(tally.total, 'follower')}`}.`;
}

/** The summary of a sync whose walk ended (complete, or at --limit or --max-calls): what it recorded, and whether the walk is complete. */
function summaryLine(plan: SyncPlan, held: Held): string {
  const { tally } = held;
  const where = `${plan.appid} in ${plan.database.shown}`;
  const details = plan.details === undefined ? '' : ` Details fetched for ${counted(tally.details, 'follower')}.`;
  const counts = { walked: walkedOf(held), ...tally };
  if (held.ending === 'complete') {
    if (held.run?.baseline === true) {
      return `wx-followers: ${where}: baseline recorded, ${baselineCounts(counts)}; joins and leaves are counted from the next sync.${details}`;
    }
    return `wx-followers: ${where}: the walk is complete: ${walkCounts(counts)}.${details}`;
  }
  const at = held.ending === 'limit' ? `stopped at --limit ${plan.limit}` : `stopped at --max-calls ${plan.maxCalls}`;
  return `wx-followers: ${where}: ${at}, ${stopped(held)}${details}`;
}

/** OpenIDs the walk saw: those of its earlier runs (a walk continued) and this run's. */
function walkedOf(held: Held): number {
  return (held.run?.walkedBefore ?? 0) + held.tally.followers;
}

interface WalkCounts {
  walked: number;
  followers: number;
  joined: number;
  left: number;
}

/**
 * A complete walk's followers (the account's now), and this run's part of them when earlier runs
 * of the walk saw the rest, so that a continued walk's 2,000 are not read as the account's size.
 */
export function walkCounts({ walked, followers, joined, left }: WalkCounts): string {
  const thisRun =
    walked > followers ? ` (${grouped(followers)} seen by this run, ${grouped(joined)} joined)` : `, ${grouped(joined)} joined`;
  return `${counted(walked, 'follower')}${thisRun}, ${grouped(left)} left`;
}

/** A complete baseline's followers, and this run's part when it continued the walk. */
function baselineCounts({ walked, followers }: Pick<WalkCounts, 'walked' | 'followers'>): string {
  const thisRun = walked > followers ? `${grouped(followers)} seen by this run; ` : '';
  return `${counted(walked, 'follower')} (${thisRun}the walk is complete)`;
}

/**
 * Where an unfinished walk stands, and that the next sync goes on with it: once refused
 * credentials are put right, and not at all for an account that withdrew from the platform.
 */
function stopped(held: Held, goingOn: GoingOn = 'again'): string {
  const at = held.tally.cursor === undefined ? 'from the first page' : `after ${held.tally.cursor}`;
  const recorded = `${counted(held.tally.followers, 'follower')} recorded this run (${grouped(walkedOf(held))} of this walk), ${grouped(held.tally.joined)} joined; nobody is marked as left until a walk is complete.`;
  if (goingOn === 'never') return recorded;
  return `${recorded} ${goingOn === 'once-put-right' ? `Once that is put right, the next sync goes on ${at}` : `The next sync goes on ${at}`}.`;
}

/** A failed or interrupted run: its row records why (best effort), and the message says how it goes on. */
async function reportFailure(error: unknown, plan: SyncPlan, held: Held, reporter: Reporter): Promise<SyncOutcome> {
  held.progress?.stop();
  const reason = reasonOf(error, reporter);
  if (held.store !== undefined && held.run !== undefined && held.ending === undefined) {
    await held.store.endRun(held.run, reason, nowSeconds()).catch(() => undefined);
  }
  const exitCode = reporter.error(error);
  const signalled = SIGNAL_CODES.includes(exitCode);
  // A walk that ended before the details failed: its summary, as a run that went well says it.
  if (held.ending !== undefined) reporter.line(summaryLine(plan, held));
  else if (held.run !== undefined) reporter.line(`wx-followers: ${stopped(held, goingOnAfter(error))}`);
  return outcomeOf(plan, held, { exitCode, status: signalled ? 'interrupted' : 'failed', reason, error });
}

/** A failure in a line, as the run's row and a summary keep it: the message, secrets blanked. */
function reasonOf(error: unknown, reporter: Reporter): string {
  const message = error instanceof Error ? error.message : String(error);
  return reporter.redact(error instanceof WxError ? message : `unexpected error: ${shown(message, 300)}`).split('\n')[0] ?? '';
}

/** The second signal: the process ends now; what is committed stays, the page in hand is lost. */
function quitNow(signal: InterruptSignal, held: Held, reporter: Reporter): void {
  const at = held.tally.cursor === undefined ? 'from the first page' : `after ${held.tally.cursor}`;
  reporter.line(
    `wx-followers: quit at once (${againToQuit(signal).toLowerCase()}). The pages committed are kept; nobody is marked as left. The next sync goes on ${at}.`,
  );
}
