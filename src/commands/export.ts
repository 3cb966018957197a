import type { ApiClient } from '../api/client.js';
import { connect, type ConnectionOptions } from '../connect.js';
import { ExitCode, WxError, usageError } from '../errors.js';
import { signalExitCode, type IOStreams } from '../io.js';
import { parseFormat, parsePositiveInteger, parseResume } from '../options.js';
import { paginate } from '../pager.js';
import { createProgress, type Progress } from '../progress.js';
import { Reporter } from '../report.js';
import { recordFormat } from '../sinks/formats.js';
import { FileOutput, StreamOutput, partialPathOf, type FileOpening } from '../sinks/output.js';
import { Sink } from '../sinks/sink.js';
import { followerList } from '../sources.js';
import { Checkpoint } from '../state.js';

export interface ExportOptions extends ConnectionOptions {
  /** Undefined when not given: a --state run then keeps the format it started with. */
  format?: string;
  output?: string;
  resume?: string;
  limit?: string;
  state?: string;
  progress: boolean;
}

/** How far the run got: what a stop message names. */
interface Advance {
  written: number;
  /** The last OpenID written (or the --resume value before the first page). */
  cursor: string | undefined;
}

export async function runExport(options: ExportOptions, io: IOStreams): Promise<ExitCode> {
  const reporter = new Reporter(io);
  const interruption = new AbortController();
  const stopListening = io.onInterrupt((signal) =>
    interruption.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal))),
  );
  const advance: Advance = { written: 0, cursor: undefined };
  let client: ApiClient | undefined;
  let sink: Sink | undefined;
  let checkpoint: Checkpoint | undefined;
  let progress: Progress | undefined;
  try {
    const explicitFormat = options.format === undefined ? undefined : parseFormat(options.format);
    const limit = parsePositiveInteger('--limit', options.limit);
    let resume = parseResume(options.resume);
    if (options.state !== undefined) {
      if (options.output === undefined) throw usageError('--state needs --output: a continued run appends to the same file.');
      if (resume !== undefined) throw usageError('--state and --resume do not go together: the state file holds the cursor.');
    }
    let opening: FileOpening = { kind: resume === undefined ? 'new' : 'resume' };
    if (options.state !== undefined && options.output !== undefined) {
      // Locked before any request: two cron runs on one state must not both spend the quota.
      checkpoint = await Checkpoint.open(options.state, options.output, explicitFormat);
      resume = checkpoint.start.cursor;
      advance.written = checkpoint.start.written;
      const bytes = checkpoint.start.continueAtBytes;
      opening = bytes === undefined ? { kind: 'new' } : { kind: 'continue', bytes };
    }
    const format = checkpoint?.start.format ?? explicitFormat ?? 'text';
    advance.cursor = resume;

    progress = await createProgress(io, options);
    const shownProgress = progress;
    ({ client } = await connect(options, io, reporter, {
      signal: interruption.signal,
      onWait: (reason) => shownProgress.note(reason),
    }));
    const fileOutput = options.output === undefined ? undefined : await FileOutput.open(options.output, opening);
    sink = new Sink(await recordFormat(format), fileOutput ?? new StreamOutput(io.stdout, resume === undefined));
    const source = followerList(client);
    const startedAt = performance.now();
    const writtenBefore = advance.written;
    progress.start(source.description);
    let limitReached = false;
    for await (const page of paginate(source, resume)) {
      let openids = page.openids;
      const room = limit === undefined ? Number.POSITIVE_INFINITY : limit - (advance.written - writtenBefore);
      if (openids.length >= room) {
        openids = openids.slice(0, room);
        limitReached = true;
      }
      await sink.writePage(openids);
      advance.written += openids.length;
      advance.cursor = openids.at(-1) ?? advance.cursor;
      if (checkpoint !== undefined && fileOutput !== undefined && advance.cursor !== undefined) {
        await checkpoint.record(advance.cursor, advance.written, await fileOutput.sync(), page.total);
      }
      progress.advance(advance.written, page.total);
      if (limitReached) break;
    }
    // With --state a --limit run is one chunk of a longer export: the next run goes on.
    if (limitReached && checkpoint !== undefined) {
      await sink.abandon();
      progress.stop();
      if (options.quiet !== true) {
        reporter.line(
          `wx-followers: stopped at --limit ${limit} with ${advance.written.toLocaleString('en-US')} OpenIDs in ${partialPathOf(options.output ?? '')}. Run the same command again to go on.`,
        );
      }
      return ExitCode.Ok;
    }
    await sink.finish();
    await checkpoint?.complete();
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    const where = options.output === undefined ? '' : ` to ${options.output}`;
    progress.succeed(`Exported ${(advance.written - writtenBefore).toLocaleString('en-US')} OpenIDs${where} in ${seconds} s.`);
    if (limitReached && options.quiet !== true && advance.cursor !== undefined) {
      reporter.line(`wx-followers: stopped at --limit ${limit}. To continue, run again with --resume ${advance.cursor}`);
    }
    return ExitCode.Ok;
  } catch (error) {
    progress?.stop();
    await sink?.abandon();
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
}

/** How to go on after a stop: the cursor, and where the output so far is. */
function reportStop(reporter: Reporter, options: ExportOptions, advance: Advance, withState: boolean): void {
  if (advance.cursor === undefined && !withState) return;
  const kept = options.output === undefined ? '' : ` (kept in ${partialPathOf(options.output)})`;
  const written = `${advance.written.toLocaleString('en-US')} OpenIDs written${kept}`;
  if (withState) {
    const resume = advance.cursor === undefined ? '' : ` (it holds --resume ${advance.cursor})`;
    reporter.line(`wx-followers: ${written}. To continue, run the same command with the same --state again${resume}.`);
    return;
  }
  reporter.line(`wx-followers: ${written}. To continue, run again with --resume ${advance.cursor}`);
}
