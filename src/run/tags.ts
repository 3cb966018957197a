import type { ApiClient } from '../api/client.js';
import { connect } from './connect.js';
import { grouped, ExitCode } from '../errors.js';
import type { IOStreams } from '../console/streams.js';
import type { TagsPlan } from '../plan/tags.js';
import { Reporter } from '../console/report.js';
import { StreamOutput } from '../out/output.js';
import { Sink } from '../out/sink.js';
import { oneLine, tagFormat } from '../out/tag-formats.js';
import { fetchTags } from '../api/endpoints/tags.js';
import type { Tag } from '../openid.js';

/** Lists the account's tags: id, name and how many followers carry each. */
export async function runTags(plan: TagsPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  const { format } = plan;
  let client: ApiClient | undefined;
  try {
    ({ client } = connect(plan.connection, reporter));
    const tags = await fetchTags(client);
    const output = new StreamOutput(io.stdout, true);
    if (format === undefined && io.stdoutIsTTY) {
      await output.write([table(tags)]);
      return ExitCode.Ok;
    }
    const sink = new Sink(await tagFormat(format ?? 'text'), output, { bom: plan.bom });
    await sink.writePage(tags);
    await sink.finish();
    return ExitCode.Ok;
  } catch (error) {
    return reporter.error(error);
  } finally {
    await client?.close();
  }
}

/** Columns padded to the widest cell, counting a CJK character as two columns, as terminals draw it. */
function table(tags: readonly Tag[]): string {
  const rows = [['ID', 'NAME', 'FOLLOWERS'], ...tags.map((tag) => [String(tag.id), oneLine(tag.name), grouped(tag.count)])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => displayWidth(row[column] ?? ''))));
  const pad = (text: string, column: number): string => {
    const room = ' '.repeat((widths[column] ?? 0) - displayWidth(text));
    // Numbers are right-aligned, names left-aligned.
    return column === 1 ? text + room : room + text;
  };
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, column) => pad(cell, column))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** East Asian wide and fullwidth characters (and emoji) take two columns of a terminal. */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;

function displayWidth(text: string): number {
  let width = 0;
  for (const character of text) width += WIDE.test(character) ? 2 : 1;
  return width;
}
