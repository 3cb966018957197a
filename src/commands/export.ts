import type { ApiClient } from '../api/client.js';
import { connect, type ConnectionOptions } from '../connect.js';
import { ExitCode, WxError } from '../errors.js';
import type { IOStreams } from '../io.js';
import { parseFormat, parsePositiveInteger, parseResume } from '../options.js';
import { paginate } from '../pager.js';
import { createProgress } from '../progress.js';
import { Reporter } from '../report.js';
import { recordFormat } from '../sinks/formats.js';
import { FileOutput, StreamOutput } from '../sinks/output.js';
import { Sink } from '../sinks/sink.js';
import { followerList } from '../sources.js';

export interface ExportOptions extends ConnectionOptions {
  format: string;
  output?: string;
  resume?: string;
  limit?: string;
  progress: boolean;
}

export async function runExport(options: ExportOptions, io: IOStreams): Promise<ExitCode> {
  const reporter = new Reporter(io);
  let written = 0;
  let cursor: string | undefined;
  let client: ApiClient | undefined;
  let sink: Sink | undefined;
  try {
    const format = parseFormat(options.format);
    const resume = parseResume(options.resume);
    cursor = resume;
    const limit = parsePositiveInteger('--limit', options.limit);
    ({ client } = await connect(options, io, reporter));

    const output =
      options.output === undefined
        ? new StreamOutput(io.stdout, resume === undefined)
        : await FileOutput.open(options.output, resume !== undefined);
    sink = new Sink(recordFormat(format), output);
    const source = followerList(client);
    const progress = await createProgress(io, options);
    const startedAt = performance.now();
    progress.start(source.description);
    let limitReached = false;
    try {
      for await (const page of paginate(source, resume)) {
        let openids = page.openids;
        if (limit !== undefined && written + openids.length >= limit) {
          openids = openids.slice(0, limit - written);
          limitReached = true;
        }
        await sink.writePage(openids);
        written += openids.length;
        cursor = openids.at(-1) ?? cursor;
        progress.advance(written, page.total);
        if (limitReached) break;
      }
      await sink.finish();
    } catch (error) {
      progress.stop();
      throw error;
    }
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    const where = options.output === undefined ? '' : ` to ${options.output}`;
    progress.succeed(`Exported ${written.toLocaleString('en-US')} OpenIDs${where} in ${seconds} s.`);
    if (limitReached && options.quiet !== true && cursor !== undefined) {
      reporter.line(`wx-followers: stopped at --limit ${limit}. To continue, run again with --resume ${cursor}`);
    }
    return ExitCode.Ok;
  } catch (error) {
    await sink?.abandon();
    const exitCode = reporter.error(error);
    if (cursor !== undefined && exitCode !== ExitCode.Usage && !(error instanceof WxError && error.silent)) {
      reporter.line(
        `wx-followers: ${written.toLocaleString('en-US')} OpenIDs written before the stop. To continue, run again with --resume ${cursor}`,
      );
    }
    return exitCode;
  } finally {
    await client?.close();
  }
}

