import { setMaxListeners } from 'node:events';
import { CallBudgetSpent, type ApiClient } from '../api/client.js';
import { listSource, type ListSource } from '../api/endpoints/lists.js';
import { createProgress, type Progress } from '../console/progress.js';
import { Reporter } from '../console/report.js';
import { signalExitCode, type InterruptSignal, type IOStreams } from '../console/streams.js';
import { counted, escapeText, ExitCode, shown, WxError } from '../errors.js';
import type { FollowerInfo } from '../openid.js';
import { recordFormat, type FormatName, type RecordFormat } from '../out/formats.js';
import { FileLock, lockHolder } from '../out/lock.js';
import { FileOutput, outputLockPathOf, SpecialFileOutput, StreamOutput, type Output } from '../out/output.js';
import { Sink } from '../out/sink.js';
import { Checkpoint } from '../out/state.js';
import { MAX_CONCURRENCY, type DetailsPlan, type ExportPlan } from '../plan/export.js';
import { connect } from './connect.js';
import {
  againToQuit,
  goingOnAfter,
  quitMessage,
  reportStop,
  setAsideMessage,
  unknownStartAdvice,
  type Advance,
} from './export-messages.js';
import { UnknownStartError } from './pages.js';
import { quotaEstimate, type FirstPage } from './quota-estimate.js';
import { readAhead, type PageRows, type PagesAhead } from './read-ahead.js';

/** What a page of OpenIDs becomes in the output: the OpenIDs themselves, or their details. */
interface Rows<Row> {
  format: RecordFormat<Row>;
  /** The rows of the pages' OpenIDs in their order, a page or a batch at a time. */
  of(pages: PagesAhead): AsyncIterable<PageRows<Row>>;
  openidOf(row: Row): string;
}

/** What a run holds while it works: each is let go of (or cut back) however it ends. */
interface Held {
  advance: Advance;
  client?: ApiClient;
  output?: Output;
  fileOutput?: FileOutput;
  checkpoint?: Checkpoint;
  outputLock?: FileLock;
  progress?: Progress;
  /** Where a stop's output so far is, for the stop message: FILE.partial, or nothing to name. */
  keptIn?: string;
  /** A page is being written (and recorded): a first signal lets it finish. */
  writing: boolean;
  /** The run stopped at --limit, its export not complete. */
  limitReached?: boolean;
}

/** How a run ended, for a run over several accounts to sum up. */
export interface ExportOutcome {
  exitCode: ExitCode;
  /** OpenIDs in the output, those of earlier runs of a --state export included. */
  written: number;
  /** The last OpenID written: where a next run goes on. */
  cursor: string | undefined;
  limitReached: boolean;
  /** Why it failed, in a line; undefined when it did not. */
  reason: string | undefined;
  /** It failed for a reason every account of a third-party platform would meet (WxError.platformWide). */
  platformWide: boolean;
}

/** Runs a checked plan: locks, state, output, the page loop, checkpoints, and what a stop says. */
export async function runExport(plan: ExportPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  return (await runExportOutcome(plan, io, reporter)).exitCode;
}

/** As runExport, telling how it ended. Interrupts come through io.onInterrupt, which a run over several accounts shares out. */
export async function runExportOutcome(plan: ExportPlan, io: IOStreams, reporter: Reporter): Promise<ExportOutcome> {
  const held: Held = {
    advance: { written: plan.writtenBefore, cursor: plan.resume, recorded: undefined, total: undefined },
    writing: false,
  };
  const interruption = new AbortController();
  // Every call in flight listens to the run's signal: up to --concurrency of them, plus a wait.
  setMaxListeners(2 * MAX_CONCURRENCY + 8, interruption.signal);
  const stopListening = io.onInterrupt(
    (signal) => {
      // Said at once, even with --quiet: a person who pressed Ctrl-C waits on a slow output to drain.
      held.progress?.stop();
      const what = held.writing ? 'finishing the page in hand, then stopping' : 'stopping (no page in hand)';
      reporter.line(`wx-followers: ${signal}: ${what}. ${againToQuit(signal)} quits at once.`);
      interruption.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal)));
    },
    (signal) => quitNow(signal, held, reporter),
  );
  const outcome = (exitCode: ExitCode, reason: string | undefined, platformWide = false): ExportOutcome => ({
    exitCode,
    written: held.advance.written,
    cursor: held.advance.cursor,
    limitReached: held.limitReached === true,
    reason,
    platformWide,
  });
  try {
    await takeLocks(plan, held);
    await exportWith(plan, held, { io, reporter, signal: interruption.signal });
    return outcome(ExitCode.Ok, undefined);
  } catch (error) {
    const platformWide = error instanceof WxError && error.platformWide;
    return outcome(await reportFailure(error, plan, held, reporter), reasonOf(error, reporter), platformWide);
  } finally {
    stopListening();
    await held.client?.close();
    await held.checkpoint?.release();
    await held.outputLock?.release();
  }
}

/** The first things that last: FILE.partial's lock, then the state file's, before any request. */
async function takeLocks(plan: ExportPlan, held: Held): Promise<void> {
  if (plan.output.kind === 'file') {
    const { path, partialPath } = plan.output;
    const lockPath = outputLockPathOf(partialPath);
    held.outputLock = await FileLock.take(
      lockPath,
      (owner) =>
        `Another run (${lockHolder(owner)}) is writing to ${escapeText(path)}; ${escapeText(lockPath)} is its lock. Let it finish, or give this run another --output.`,
    );
    held.keptIn = partialPath;
  }
  if (plan.state !== undefined) {
    held.checkpoint = await Checkpoint.take(plan.state);
    held.advance.recorded = plan.resume;
  }
}

interface RunContext {
  io: IOStreams;
  reporter: Reporter;
  signal: AbortSignal;
}

/** Connects, opens the output and walks the list into it. */
async function exportWith(plan: ExportPlan, held: Held, context: RunContext): Promise<void> {
  const { io, reporter, signal } = context;
  const progress = await createProgress(io, { progress: plan.progress, quiet: plan.quiet });
  held.progress = progress;
  const connection = connect(plan.connection, reporter, {
    signal,
    onWait: (reason) => progress.note(reason),
    waitsShown: progress.shown,
    connections: plan.details?.concurrency ?? 1,
    ...(plan.maxCalls === undefined ? {} : { maxCalls: plan.maxCalls }),
  });
  held.client = connection.client;
  held.output = await openOutput(plan, held, context);
  const source = listSource(plan.list, connection.client);
  if (plan.details === undefined) await exportRows(plan, held, source, await openidRows(plan.format), context);
  else await exportRows(plan, held, source, await detailRows(connection.client, plan.format, plan.details), context);
}

async function openOutput(plan: ExportPlan, held: Held, { io, reporter, signal }: RunContext): Promise<Output> {
  const { output } = plan;
  if (output.kind === 'stdout') return new StreamOutput(io.stdout, plan.resume === undefined);
  if (output.kind === 'special') {
    return SpecialFileOutput.open(output.path, plan.resume === undefined, {
      signal,
      onWait: () => {
        if (!plan.quiet)
          reporter.line(`wx-followers: ${escapeText(output.path)} is a named pipe with no reader yet: waiting for one (Ctrl-C stops).`);
      },
    });
  }
  const fileOutput = await FileOutput.open(output.path, output.opening, output.partial);
  held.fileOutput = fileOutput;
  // Said even with --quiet: a file an earlier run left is moved, and the person must learn where.
  if (fileOutput.setAside !== undefined) reporter.line(await setAsideMessage(plan, output.partialPath, fileOutput.setAside));
  return fileOutput;
}

/** The page loop, the same for every list and for OpenIDs with or without details. */
async function exportRows<Row>(
  plan: ExportPlan,
  held: Held,
  source: ListSource,
  rows: Rows<Row>,
  { io, reporter }: RunContext,
): Promise<void> {
  const { advance, checkpoint, progress, output } = held;
  if (progress === undefined || output === undefined) throw new Error('The output and progress are opened before the page loop.');
  const sink = new Sink(rows.format, output, { bom: plan.bom });
  const startedAt = performance.now();
  progress.start(source.description);
  // A call of its own, made only for a person watching the bar; without it the bar counts.
  const knownSize = progress.shown && source.size !== undefined ? await source.size().catch(() => undefined) : undefined;
  const ahead = io.env['WX_FOLLOWERS_TEST_NO_READ_AHEAD'] === undefined;
  const pages = readAhead(source, plan.resume, { limit: plan.limit, ahead });
  // Worth a call only for a person watching: how far today's quota takes the rest.
  const client = held.client;
  const estimate =
    progress.shown && client !== undefined
      ? async (first: FirstPage) => {
          const line = await quotaEstimate(client, plan, first);
          if (line !== undefined) progress.tell(line);
        }
      : undefined;
  try {
    await writeRows(held, rows, pages, { knownSize, estimate }, sink);
  } catch (error) {
    if (!(error instanceof CallBudgetSpent)) throw error;
    await stopAtMaxCalls(plan, held, sink, reporter, startedAt);
    return;
  }
  held.limitReached = pages.limitReached;
  // With --state a --limit run is one chunk of a longer export: the next run goes on.
  if (pages.limitReached && checkpoint !== undefined) {
    await sink.abandon();
    progress.stop();
    if (!plan.quiet) {
      reporter.line(
        `wx-followers: stopped at --limit ${plan.limit} with ${counted(advance.written, 'OpenID')} in ${escapeText(held.keptIn ?? '')}. Run the same command again to go on.`,
      );
    }
    return;
  }
  await finishOutput(plan, held, sink, startedAt);
  if (pages.limitReached && !plan.quiet && advance.cursor !== undefined) {
    reporter.line(`wx-followers: stopped at --limit ${plan.limit}. To continue, run again with --resume ${advance.cursor}`);
  }
}

/** Writes the rows a page or a batch at a time, and records each page written with --state. */
async function writeRows<Row>(
  held: Held,
  rows: Rows<Row>,
  pages: PagesAhead,
  { knownSize, estimate }: { knownSize: number | undefined; estimate: ((first: FirstPage) => Promise<void>) | undefined },
  sink: Sink<Row>,
): Promise<void> {
  const { advance, checkpoint, fileOutput, progress } = held;
  let estimated = estimate === undefined;
  for await (const { rows: batch, pieces, page, endsPage } of rows.of(pages)) {
    advance.total = page.total;
    held.writing = true;
    await sink.writePage(batch, pieces);
    advance.written += batch.length;
    const last = batch.at(-1);
    if (last !== undefined) advance.cursor = rows.openidOf(last);
    if (!estimated && endsPage) {
      estimated = true;
      await estimate?.({ page, written: advance.written, total: page.total ?? knownSize });
    }
    progress?.advance(advance.written, page.total ?? knownSize);
    // Once a page, not a batch: an fsync and a state write for every 100 rows would cost more
    // than the rows. A stop in between records where it got to (recordStop).
    if (endsPage && checkpoint !== undefined && fileOutput !== undefined && advance.cursor !== undefined) {
      await checkpoint.record(advance.cursor, advance.written, await fileOutput.sync(), page.total);
      advance.recorded = advance.cursor;
    }
    held.writing = false;
  }
}

/** The output complete (or complete up to --limit or --max-calls): FILE.partial renamed, the state done. */
async function finishOutput<Row>(plan: ExportPlan, held: Held, sink: Sink<Row>, startedAt: number): Promise<void> {
  await sink.finish();
  await held.checkpoint?.complete();
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  const where = plan.output.kind === 'stdout' ? '' : ` to ${escapeText(plan.output.path)}`;
  held.progress?.succeed(`Exported ${counted(held.advance.written - plan.writtenBefore, 'OpenID')}${where} in ${seconds} s.`);
}

/**
 * The next call would pass --max-calls: stopped as at --limit, between two rows written whole.
 * With --state, the state records the last row (a stop inside a page, with --with-info) and the
 * next run goes on; without, the output is kept as complete up to there and the cursor named.
 */
async function stopAtMaxCalls<Row>(plan: ExportPlan, held: Held, sink: Sink<Row>, reporter: Reporter, startedAt: number): Promise<void> {
  const { advance, checkpoint, fileOutput } = held;
  const head = `wx-followers: stopped at --max-calls ${plan.maxCalls}`;
  if (checkpoint !== undefined) {
    await recordStop(checkpoint, fileOutput, advance);
    await sink.abandon();
    held.progress?.stop();
    if (!plan.quiet) {
      reporter.line(
        `${head} with ${counted(advance.written, 'OpenID')} in ${escapeText(held.keptIn ?? '')}. Run the same command again to go on.`,
      );
    }
    return;
  }
  if (advance.written === plan.writtenBefore) {
    // Nothing written: no empty FILE (nor a lone CSV header) where an export of no one would be.
    // Said even with --quiet: exit 0 with no output at all is worth a line.
    await sink.abandon();
    held.progress?.stop();
    const resume = plan.resume === undefined ? '' : ` To go on, run again with --resume ${plan.resume}`;
    reporter.line(`${head} before any OpenID was written (a token or a retry took the calls): give it more.${resume}`);
    return;
  }
  await finishOutput(plan, held, sink, startedAt);
  if (!plan.quiet) reporter.line(`${head}. To continue, run again with --resume ${advance.cursor}`);
}

async function openidRows(format: FormatName): Promise<Rows<string>> {
  return {
    format: await recordFormat(format),
    of: async function* (pages) {
      for await (const page of pages) yield { rows: page.openids, pieces: page.pieces, page, endsPage: true };
    },
    openidOf: (openid) => openid,
  };
}

async function detailRows(client: ApiClient, format: FormatName, details: DetailsPlan): Promise<Rows<FollowerInfo>> {
  // Loaded for --with-info only: an export of OpenIDs does not pay for them at start-up.
  const [{ detailsInOrder }, { detailsFormat }] = await Promise.all([import('./details.js'), import('../out/details-formats.js')]);
  return {
    // The plan refused text with --with-info.
    format: await detailsFormat(format === 'text' ? 'csv' : format),
    of: (pages) => detailsInOrder(client, pages, details),
    openidOf: (row) => row.openid,
  };
}

/** A failure in a line, as a summary shows it: the message, secrets blanked. */
function reasonOf(error: unknown, reporter: Reporter): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = reporter.redact(error instanceof WxError ? message : `unexpected error: ${shown(message, 300)}`).split('\n')[0] ?? '';
  return line;
}

/** A failed or stopped run: its state and output brought to where it stopped, and how to go on. */
async function reportFailure(error: unknown, plan: ExportPlan, held: Held, reporter: Reporter): Promise<ExitCode> {
  const { checkpoint, fileOutput, advance } = held;
  held.progress?.stop();
  await recordStop(checkpoint, fileOutput, advance);
  await held.output?.abandon();
  const exitCode = reporter.error(error);
  if (error instanceof UnknownStartError) {
    reporter.line(unknownStartAdvice(plan, held.keptIn, error.otherAccount));
  } else if (exitCode !== ExitCode.Usage && !(error instanceof WxError && error.silent)) {
    await reportStop(reporter, held.keptIn, advance, { withState: checkpoint !== undefined, goingOn: goingOnAfter(error) });
  }
  return exitCode;
}

/**
 * A stop between two page records (details are written a batch at a time) records the last row
 * written, so that the next run neither repeats nor loses a row. Best effort: if the disk fails
 * now, the state keeps the last page and a continued run cuts the file back to it.
 */
async function recordStop(checkpoint: Checkpoint | undefined, fileOutput: FileOutput | undefined, advance: Advance): Promise<void> {
  if (checkpoint === undefined || fileOutput === undefined) return;
  if (advance.cursor === undefined || advance.cursor === advance.recorded) return;
  try {
    await checkpoint.record(advance.cursor, advance.written, await fileOutput.sync(), advance.total);
    advance.recorded = advance.cursor;
  } catch {
    // The error that stopped the run is the one to report.
  }
}

/** The second signal: the process ends now, in the middle of a page; say where the output stands. */
function quitNow(signal: InterruptSignal, held: Held, reporter: Reporter): void {
  held.fileOutput?.cutBackNow();
  reporter.line(
    quitMessage(signal, held.advance, {
      withState: held.checkpoint !== undefined,
      keptIn: held.fileOutput === undefined ? undefined : held.keptIn,
    }),
  );
  held.checkpoint?.releaseNow();
  held.outputLock?.releaseNow();
}
