import { setMaxListeners } from 'node:events';
import { stat } from 'node:fs/promises';
import type { ApiClient } from '../api/client.js';
import { connect, type ConnectionOptions } from '../connect.js';
import type { DetailsOptions, FollowerInfo } from '../details.js';
import { ExitCode, WxError } from '../errors.js';
import { MAX_CONCURRENCY, planExport, setAsideMessage, textWithInfo, type ExportPlan } from '../export-plan.js';
import { signalExitCode, type InterruptSignal, type IOStreams } from '../io.js';
import { checkBom } from '../options.js';
import { UnknownStartError, type ListSource } from '../pager.js';
import { createProgress, type Progress } from '../progress.js';
import { readAhead, type PageRows, type PagesAhead } from '../read-ahead.js';
import type { FileLock } from '../lock.js';
import { Reporter } from '../report.js';
import { counted, escapeText } from '../shown.js';
import { recordFormat, type FormatName, type RecordFormat } from '../sinks/formats.js';
import { FileOutput, SpecialFileOutput, StreamOutput, type Output } from '../sinks/output.js';
import { Sink } from '../sinks/sink.js';
import type { Checkpoint } from '../state.js';

export interface ExportOptions extends ConnectionOptions {
  /** Undefined when not given: a --state run then keeps the format it started with. */
  format?: string;
  output?: string;
  resume?: string;
  limit?: string;
  state?: string;
  /** The followers carrying this tag instead of all of them. */
  tag?: string;
  blacklist?: boolean;
  withInfo?: boolean;
  lang?: string;
  concurrency?: string;
  /** A UTF-8 BOM at the top of a CSV, for Excel. */
  bom?: boolean;
  progress: boolean;
}

/** How far the run got: what a stop message names. */
interface Advance {
  written: number;
  /** The last OpenID written (or the --resume value before the first page). */
  cursor: string | undefined;
  /** The cursor the state file holds, when there is one. */
  recorded: string | undefined;
  total: number | undefined;
}

/** What a page of OpenIDs becomes in the output: the OpenIDs themselves, or their details. */
interface Rows<Row> {
  format: RecordFormat<Row>;
  /** The rows of the pages' OpenIDs in their order, a page or a batch at a time. */
  of(pages: PagesAhead): AsyncIterable<PageRows<Row>>;
  openidOf(row: Row): string;
}

/** Everything the page loop needs, settled before the first page. */
interface Run {
  source: ListSource;
  resume: string | undefined;
  limit: number | undefined;
  output: Output;
  fileOutput: FileOutput | undefined;
  checkpoint: Checkpoint | undefined;
  progress: Progress;
  advance: Advance;
  /** Whether the next page is asked for while this one is written (off only for tests). */
  readAhead: boolean;
}

export async function runExport(options: ExportOptions, io: IOStreams): Promise<ExitCode> {
  const reporter = new Reporter(io);
  const interruption = new AbortController();
  // Every call in flight listens to the run's signal: up to --concurrency of them, plus a wait.
  setMaxListeners(2 * MAX_CONCURRENCY + 8, interruption.signal);
  const stopListening = io.onInterrupt(
    (signal) => {
      // Said at once, even with --quiet: a person who pressed Ctrl-C waits on a slow output to drain.
      progress?.stop();
      reporter.line(`wx-followers: ${signal}: finishing the page in hand, then stopping. ${againToQuit(signal)} quits at once.`);
      interruption.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal)));
    },
    (signal) => quitNow(signal),
  );
  const advance: Advance = { written: 0, cursor: undefined, recorded: undefined, total: undefined };
  let client: ApiClient | undefined;
  let output: Output | undefined;
  let fileOutput: FileOutput | undefined;
  let checkpoint: Checkpoint | undefined;
  let outputLock: FileLock | undefined;
  let progress: Progress | undefined;
  /** Where a stop's output so far is, for the stop message: FILE.partial, or nothing to name. */
  let keptIn: string | undefined;
  try {
    // Every option and path is checked here, before any request.
    const plan = await planExport(options);
    ({ checkpoint, outputLock } = plan);
    // Again with the format a --state file holds; the lock is released below.
    checkBom(options.bom, plan.format);
    if (plan.output.kind === 'stdout' && io.stdoutClosed()) {
      throw new WxError(
        'stdout is closed (`>&-`, or started with no stdout), so the followers would be lost: nothing was asked of the API. Give --output FILE, or send stdout somewhere (`> FILE`; `> /dev/null` if you really want nothing).',
        ExitCode.Failure,
      );
    }
    const { details, resume, format } = plan;
    advance.written = plan.writtenBefore;
    advance.recorded = checkpoint === undefined ? undefined : resume;
    advance.cursor = resume;
    if (plan.output.kind === 'file') keptIn = plan.output.partialPath;

    progress = await createProgress(io, options);
    const shownProgress = progress;
    const connection = await connect(options, io, reporter, {
      signal: interruption.signal,
      onWait: (reason) => shownProgress.note(reason),
      waitsShown: shownProgress.shown,
      connections: details?.concurrency ?? 1,
    });
    ({ client } = connection);
    // Before any call: another account's list would not know the state's cursor.
    await checkpoint?.claimAccount(await connection.account());
    output = await openOutput(plan);
    const readAhead = io.env['WX_FOLLOWERS_TEST_NO_READ_AHEAD'] === undefined;
    const run: Run = {
      source: plan.list.source(client),
      resume,
      limit: plan.limit,
      output,
      fileOutput,
      checkpoint,
      progress,
      advance,
      readAhead,
    };
    if (details === undefined) {
      await exportRows(run, await openidRows(format));
    } else {
      await exportRows(run, await detailRows(client, format, details));
    }
    return ExitCode.Ok;
  } catch (error) {
    progress?.stop();
    await recordStop(checkpoint, fileOutput, advance);
    await output?.abandon();
    const exitCode = reporter.error(error);
    if (error instanceof UnknownStartError) {
      reporter.line(
        checkpoint === undefined
          ? 'wx-followers: give --resume an OpenID that an earlier export of the same list and account printed or wrote, or leave it out to start from the beginning.'
          : `wx-followers: the state file ${escapeText(options.state ?? '')} holds it: the account's list has changed under it. Remove the state file (and ${escapeText(keptIn ?? 'the output so far')}) to start afresh.`,
      );
    } else if (exitCode !== ExitCode.Usage && !(error instanceof WxError && error.silent)) {
      await reportStop(reporter, keptIn, advance, checkpoint !== undefined);
    }
    return exitCode;
  } finally {
    stopListening();
    await client?.close();
    await checkpoint?.release();
    await outputLock?.release();
  }

  /** The second signal: the process ends now, in the middle of a page; say where the output stands. */
  function quitNow(signal: InterruptSignal): void {
    const head = `wx-followers: quit at once (${againToQuit(signal).toLowerCase()})`;
    fileOutput?.cutBackNow();
    const { cursor } = advance;
    if (checkpoint !== undefined) {
      reporter.line(`${head}. To continue, run the same command with the same --state again: it goes on from the last page it recorded.`);
    } else if (cursor === undefined) {
      reporter.line(`${head}, before a page was written whole. Run again to export from the start.`);
    } else if (fileOutput !== undefined) {
      reporter.line(
        `${head}. ${counted(advance.written, 'OpenID')} written (kept in ${escapeText(keptIn ?? '')}). To continue, run again with --resume ${cursor}`,
      );
    } else {
      reporter.line(
        `${head}: the output may end in a cut line. The last OpenID written whole is ${cursor}: drop what follows its line. To continue, run again with --resume ${cursor}`,
      );
    }
    checkpoint?.releaseNow();
    outputLock?.releaseNow();
  }

  async function openOutput(plan: ExportPlan): Promise<Output> {
    const { output } = plan;
    if (output.kind === 'stdout') return new StreamOutput(io.stdout, plan.resume === undefined);
    if (output.kind === 'special') {
      return SpecialFileOutput.open(output.path, plan.resume === undefined, {
        signal: interruption.signal,
        onWait: () => {
          if (options.quiet !== true)
            reporter.line(`wx-followers: ${escapeText(output.path)} is a named pipe with no reader yet: waiting for one (Ctrl-C stops).`);
        },
      });
    }
    fileOutput = await FileOutput.open(output.path, output.opening);
    // Said even with --quiet: a file an earlier run left is moved, and the person must learn where.
    if (fileOutput.setAside !== undefined) reporter.line(await setAsideMessage(plan, output.partialPath, fileOutput.setAside));
    return fileOutput;
  }

  /** The page loop, the same for every list and for OpenIDs with or without details. */
  async function exportRows<Row>(run: Run, rows: Rows<Row>): Promise<void> {
    const { advance, checkpoint, fileOutput, progress, limit } = run;
    const sink = new Sink(rows.format, run.output, { bom: options.bom === true });
    const startedAt = performance.now();
    const writtenBefore = advance.written;
    progress.start(run.source.description);
    // A call of its own, made only for a person watching the bar; without it the bar counts.
    const knownSize = progress.shown && run.source.size !== undefined ? await run.source.size().catch(() => undefined) : undefined;
    const pages = readAhead(run.source, run.resume, { limit, ahead: run.readAhead });
    for await (const { rows: batch, pieces, page, endsPage } of rows.of(pages)) {
      advance.total = page.total;
      await sink.writePage(batch, pieces);
      advance.written += batch.length;
      const last = batch.at(-1);
      if (last !== undefined) advance.cursor = rows.openidOf(last);
      progress.advance(advance.written, page.total ?? knownSize);
      // Once a page, not a batch: an fsync and a state write for every 100 rows would cost more
      // than the rows. A stop in between records where it got to (recordStop).
      if (endsPage && checkpoint !== undefined && fileOutput !== undefined && advance.cursor !== undefined) {
        await checkpoint.record(advance.cursor, advance.written, await fileOutput.sync(), page.total);
        advance.recorded = advance.cursor;
      }
    }
    const { limitReached } = pages;
    // With --state a --limit run is one chunk of a longer export: the next run goes on.
    if (limitReached && checkpoint !== undefined) {
      await sink.abandon();
      progress.stop();
      if (options.quiet !== true) {
        reporter.line(
          `wx-followers: stopped at --limit ${limit} with ${counted(advance.written, 'OpenID')} in ${escapeText(keptIn ?? '')}. Run the same command again to go on.`,
        );
      }
      return;
    }
    await sink.finish();
    await checkpoint?.complete();
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    const where = options.output === undefined ? '' : ` to ${escapeText(options.output)}`;
    progress.succeed(`Exported ${counted(advance.written - writtenBefore, 'OpenID')}${where} in ${seconds} s.`);
    if (limitReached && options.quiet !== true && advance.cursor !== undefined) {
      reporter.line(`wx-followers: stopped at --limit ${limit}. To continue, run again with --resume ${advance.cursor}`);
    }
  }
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

async function detailRows(client: ApiClient, format: FormatName, details: DetailsOptions): Promise<Rows<FollowerInfo>> {
  if (format === 'text') throw textWithInfo();
  // Loaded for --with-info only: an export of OpenIDs does not pay for them at start-up.
  const [{ detailsInOrder }, { detailsFormat }] = await Promise.all([import('../details.js'), import('../sinks/details-formats.js')]);
  return {
    format: await detailsFormat(format),
    of: (pages) => detailsInOrder(client, pages, details),
    openidOf: (row) => row.openid,
  };
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

function againToQuit(signal: InterruptSignal): string {
  return `A second ${signal === 'SIGINT' ? 'Ctrl-C' : signal}`;
}

/** How to go on after a stop: the cursor, and where the output so far is. */
async function reportStop(reporter: Reporter, keptIn: string | undefined, advance: Advance, withState: boolean): Promise<void> {
  if (advance.cursor === undefined && !withState) return;
  // Only a file that is there: a run that stopped before its first page leaves none.
  const kept = keptIn !== undefined && (await stat(keptIn).catch(() => undefined)) !== undefined ? ` (kept in ${escapeText(keptIn)})` : '';
  const written = `${counted(advance.written, 'OpenID')} written${kept}`;
  if (withState) {
    const resume = advance.recorded === undefined ? '' : ` (it holds --resume ${advance.recorded})`;
    reporter.line(`wx-followers: ${written}. To continue, run the same command with the same --state again${resume}.`);
    return;
  }
  reporter.line(`wx-followers: ${written}. To continue, run again with --resume ${advance.cursor}`);
}
