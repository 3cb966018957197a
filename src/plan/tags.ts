import type { IOStreams } from '../console/streams.js';
import type { FormatName } from '../out/formats.js';
import { planConnection, type ConnectionFlags, type ConnectionPlan } from './connection.js';
import { checkBom, parseFormat } from './options.js';
import { refuseClosedStdout } from './stdout.js';

export interface TagsFlags extends ConnectionFlags {
  /** Undefined when not given: a table on a terminal, text elsewhere. */
  format?: string;
  /** A UTF-8 BOM at the top of a CSV, for Excel. */
  bom?: boolean;
}

export interface TagsPlan {
  /** Undefined: a table on a terminal, text elsewhere. */
  format: FormatName | undefined;
  bom: boolean;
  connection: ConnectionPlan;
}

export async function planTags(flags: TagsFlags, io: IOStreams): Promise<TagsPlan> {
  refuseClosedStdout(io, 'the tags');
  const format = flags.format === undefined ? undefined : parseFormat(flags.format);
  checkBom(flags.bom, format);
  return { format, bom: flags.bom === true, connection: await planConnection(flags, io) };
}
