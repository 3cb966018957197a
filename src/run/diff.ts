import { open } from 'node:fs/promises';
import { grouped, ExitCode } from '../errors.js';
import type { IOStreams } from '../console/streams.js';
import { readExport, type OpenidBatch } from '../out/export-file.js';
import { OpenidTable } from './openid-table.js';
import { unreadableInput, type DiffPlan } from '../plan/diff.js';
import { Reporter } from '../console/report.js';
import { changeFormat, type Change } from '../out/change-formats.js';
import { StreamOutput } from '../out/output.js';
import { Sink } from '../out/sink.js';

/** Changes written at once: the same slice size as an export's. */
const BATCH = 2_048;

/**
 * Who came and who went between two exports: first the OpenIDs added, in the new export's
 * order, then those removed, in the old export's order. Memory holds the OpenIDs of both.
 */
export async function runDiff(plan: DiffPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  try {
    const reading = { allowEmpty: plan.allowEmpty };
    const oldExport = await openExport(plan.oldPath, io, reading);
    const newExport = await openExport(plan.newPath, io, reading);
    const sink = new Sink<Change>(await changeFormat(plan.format), new StreamOutput(io.stdout, true), { bom: plan.bom });
    const table = new OpenidTable();
    let sized = false;
    for await (const { bytes, bounds, inputBytes } of oldExport.openids) {
      if (!sized && oldExport.size !== undefined) {
        // The first chunk tells how many bytes of this export make an OpenID; the file's size, how many there are.
        table.reserve(Math.ceil((oldExport.size * bounds.length) / 2 / inputBytes));
        sized = true;
      }
      for (let index = 0; index < bounds.length; index += 2) table.addOld(bytes, bounds[index] as number, bounds[index + 1] as number);
    }

    let added = 0;
    let removed = 0;
    let batch: Change[] = [];
    const flush = async (): Promise<void> => {
      await sink.writePage(batch);
      batch = [];
    };
    for await (const { bytes, bounds } of newExport.openids) {
      for (let index = 0; index < bounds.length; index += 2) {
        const start = bounds[index] as number;
        const end = bounds[index + 1] as number;
        if (!table.addNew(bytes, start, end)) continue;
        batch.push({ change: 'added', openid: bytes.toString('latin1', start, end) });
        added += 1;
      }
      if (batch.length >= BATCH) await flush();
    }
    for (const openid of table.removed()) {
      batch.push({ change: 'removed', openid });
      removed += 1;
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    await sink.finish();
    if (io.stderrIsTTY) reporter.line(`${grouped(added)} added, ${grouped(removed)} removed.`);
    return ExitCode.Ok;
  } catch (error) {
    return reporter.error(error);
  }
}

interface ExportInput {
  openids: AsyncGenerator<OpenidBatch>;
  /** The file's size in bytes; unknown for stdin. */
  size: number | undefined;
}

async function openExport(path: string, io: IOStreams, reading: { allowEmpty: boolean }): Promise<ExportInput> {
  if (path === '-') {
    return { openids: readExport(io.stdin as AsyncIterable<Buffer>, 'stdin', reading), size: undefined };
  }
  // The plan checked it; a file removed since is said the same way.
  const handle = await open(path, 'r').catch((error: Error) => {
    throw unreadableInput(path, error);
  });
  const stats = await handle.stat();
  const { size } = stats;
  const stream = handle.createReadStream({ highWaterMark: 1 << 20 });
  return { openids: readExport(stream as AsyncIterable<Buffer>, path, reading), size };
}
