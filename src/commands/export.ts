import type { ApiClient } from '../api/client.js';
import { connect, type ConnectionOptions } from '../connect.js';
import type { DetailsOptions, FollowerInfo } from '../details.js';
import { ExitCode, WxError, usageError } from '../errors.js';
import { signalExitCode, type IOStreams } from '../io.js';
import { parseCount, parseFormat, parseLanguage, parsePositiveInteger, parseResume } from '../options.js';
import type { ListSource } from '../pager.js';
import { createProgress, type Progress } from '../progress.js';
import { readAhead, type PageRows, type PagesAhead } from '../read-ahead.js';
import { Reporter } from '../report.js';
import { recordFormat, type FormatName, type RecordFormat } from '../sinks/formats.js';
import { FileOutput, StreamOutput, partialPathOf, type FileOpening, type Output } from '../sinks/output.js';
import { Sink } from '../sinks/sink.js';
import { blacklist, followerList, taggedFollowers, type ListChoice } from '../sources.js';
import { Checkpoint } from '../state.js';

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
  progress: boolean;
}

const DEFAULT_CONCURRENCY = 8;
/** More calls at once would only meet the API's per-minute limit (45011) sooner. */
const MAX_CONCURRENCY = 32;

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
  const stopListening = io.onInterrupt((signal) =>
    interruption.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal))),
  );
  const advance: Advance = { written: 0, cursor: undefined, recorded: undefined, total: undefined };
  let client: ApiClient | undefined;
  let output: Output | undefined;
  let fileOutput: FileOutput | undefined;
  let checkpoint: Checkpoint | undefined;
  let progress: Progress | undefined;
  try {
    const explicitFormat = options.format === undefined ? undefined : parseFormat(options.format);
    const limit = parsePositiveInteger('--limit', options.limit);
    const details = parseDetailsOptions(options, explicitFormat);
    let resume = parseResume(options.resume);
    if (options.state !== undefined) {
      if (options.output === undefined) throw usageError('--state needs --output: a continued run appends to the same file.');
      if (resume !== undefined) throw usageError('--state and --resume do not go together: the state file holds the cursor.');
    }
    const list = chooseList(options);
    const defaultFormat: FormatName = details === undefined ? 'text' : 'csv';
    let opening: FileOpening = { kind: resume === undefined ? 'new' : 'resume' };
    if (options.state !== undefined && options.output !== undefined) {
      // Locked before any request: two cron runs on one state must not both spend the quota.
      checkpoint = await Checkpoint.open(options.state, options.output, {
        format: explicitFormat,
        defaultFormat,
        list: list.description,
        withInfo: details !== undefined,
      });
      resume = checkpoint.start.cursor;
      advance.written = checkpoint.start.written;
      advance.recorded = resume;
      const bytes = checkpoint.start.continueAtBytes;
      opening = bytes === undefined ? { kind: 'new' } : { kind: 'continue', bytes };
    }
    const format = checkpoint?.start.format ?? explicitFormat ?? defaultFormat;
    advance.cursor = resume;

    progress = await createProgress(io, options);
    const shownProgress = progress;
    ({ client } = await connect(options, io, reporter, {
      signal: interruption.signal,
      onWait: (reason) => shownProgress.note(reason),
      connections: details?.concurrency ?? 1,
    }));
    fileOutput = options.output === undefined ? undefined : await FileOutput.open(options.output, opening);
    output = fileOutput ?? new StreamOutput(io.stdout, resume === undefined);
    const readAhead = io.env['WX_FOLLOWERS_TEST_NO_READ_AHEAD'] === undefined;
    const run: Run = { source: list.source(client), resume, limit, output, fileOutput, checkpoint, progress, advance, readAhead };
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
    if (exitCode !== ExitCode.Usage && !(error instanceof WxError && error.silent)) {
      reportStop(reporter, options, advance, checkpoint !== undefined);
    }
    return exitCode;
  } finally {
    stopListening();
    await client?.close();
    await checkpoint?.release();
  }

  /** The page loop, the same for every list and for OpenIDs with or without details. */
  async function exportRows<Row>(run: Run, rows: Rows<Row>): Promise<void> {
    const { advance, checkpoint, fileOutput, progress, limit } = run;
    const sink = new Sink(rows.format, run.output);
    const startedAt = performance.now();
    const writtenBefore = advance.written;
    progress.start(run.source.description);
    // A call of its own, made only for a person watching the bar; without it the bar counts.
    const knownSize = progress.shown && run.source.size !== undefined ? await run.source.size().catch(() => undefined) : undefined;
    const pages = readAhead(run.source, run.resume, { limit, ahead: run.readAhead });
    for await (const { rows: batch, page, endsPage } of rows.of(pages)) {
      advance.total = page.total;
      await sink.writePage(batch);
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
          `wx-followers: stopped at --limit ${limit} with ${advance.written.toLocaleString('en-US')} OpenIDs in ${partialPathOf(options.output ?? '')}. Run the same command again to go on.`,
        );
      }
      return;
    }
    await sink.finish();
    await checkpoint?.complete();
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    const where = options.output === undefined ? '' : ` to ${options.output}`;
    progress.succeed(`Exported ${(advance.written - writtenBefore).toLocaleString('en-US')} OpenIDs${where} in ${seconds} s.`);
    if (limitReached && options.quiet !== true && advance.cursor !== undefined) {
      reporter.line(`wx-followers: stopped at --limit ${limit}. To continue, run again with --resume ${advance.cursor}`);
    }
  }
}

function chooseList(options: ExportOptions): ListChoice {
  if (options.tag !== undefined && options.blacklist === true) {
    throw usageError('--tag and --blacklist do not go together: export one list at a time.');
  }
  if (options.blacklist === true) return blacklist;
  const tagid = parseCount('--tag', options.tag);
  return tagid === undefined ? followerList : taggedFollowers(tagid);
}

async function openidRows(format: FormatName): Promise<Rows<string>> {
  return {
    format: await recordFormat(format),
    of: async function* (pages) {
      for await (const page of pages) yield { rows: page.openids, page, endsPage: true };
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

function textWithInfo(): WxError {
  return usageError('--with-info writes --format csv or --format ndjson: text has one OpenID a line and no room for the details.');
}

/** Undefined without --with-info, whose options are then refused rather than ignored. */
function parseDetailsOptions(options: ExportOptions, format: FormatName | undefined): DetailsOptions | undefined {
  if (options.withInfo !== true) {
    if (options.lang !== undefined) throw usageError('--lang goes with --with-info.');
    if (options.concurrency !== undefined) throw usageError('--concurrency goes with --with-info.');
    return undefined;
  }
  if (format === 'text') throw textWithInfo();
  const concurrency = parsePositiveInteger('--concurrency', options.concurrency) ?? DEFAULT_CONCURRENCY;
  if (concurrency > MAX_CONCURRENCY) {
    throw usageError(`--concurrency is at most ${MAX_CONCURRENCY}: more calls at once only meet the API's per-minute limit sooner.`);
  }
  return { lang: options.lang === undefined ? 'zh_CN' : parseLanguage(options.lang), concurrency };
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

/** How to go on after a stop: the cursor, and where the output so far is. */
function reportStop(reporter: Reporter, options: ExportOptions, advance: Advance, withState: boolean): void {
  if (advance.cursor === undefined && !withState) return;
  const kept = options.output === undefined ? '' : ` (kept in ${partialPathOf(options.output)})`;
  const written = `${advance.written.toLocaleString('en-US')} OpenIDs written${kept}`;
  if (withState) {
    const resume = advance.recorded === undefined ? '' : ` (it holds --resume ${advance.recorded})`;
    reporter.line(`wx-followers: ${written}. To continue, run the same command with the same --state again${resume}.`);
    return;
  }
  reporter.line(`wx-followers: ${written}. To continue, run again with --resume ${advance.cursor}`);
}
