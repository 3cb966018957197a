import type { IOStreams } from '../console/streams.js';
import type { FormatName } from '../out/formats.js';
import { planComponentConnection, type ComponentConnectionPlan, type ComponentFlags } from './component.js';
import type { TransportFlags } from './connection.js';
import { checkBom, parseFormat } from './options.js';
import { refuseClosedStdout } from './stdout.js';

/** `wx-followers accounts`: the accounts that authorized a third-party platform. */
export interface AuthorizersFlags extends TransportFlags, ComponentFlags {
  format?: string;
  bom?: boolean;
  /** Each account's name, type, verification and scopes (api_get_authorizer_info, one call an account). */
  withInfo?: boolean;
}

export interface AuthorizersPlan {
  format: FormatName;
  bom: boolean;
  withInfo: boolean;
  connection: ComponentConnectionPlan;
}

export async function planAuthorizers(flags: AuthorizersFlags, io: IOStreams): Promise<AuthorizersPlan> {
  refuseClosedStdout(io, 'the accounts');
  const format = flags.format === undefined ? 'text' : parseFormat(flags.format);
  checkBom(flags.bom, format);
  const connection = await planComponentConnection(flags, io, '`wx-followers accounts`');
  return { format, bom: flags.bom === true, withInfo: flags.withInfo === true, connection };
}
