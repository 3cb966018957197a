import type { ApiClient } from '../api/client.js';
import { AUTHORIZATION_WITHDRAWN } from '../api/errcodes.js';
import { fetchAuthorizerInfo, type AuthorizerEntry } from '../api/endpoints/component.js';
import { Reporter } from '../console/report.js';
import type { IOStreams } from '../console/streams.js';
import { ExitCode, WxError, counted, grouped } from '../errors.js';
import type { AuthorizerRow } from '../openid.js';
import { authorizerFormat } from '../out/authorizer-formats.js';
import { StreamOutput } from '../out/output.js';
import { Sink } from '../out/sink.js';
import type { AuthorizersPlan } from '../plan/authorizers.js';
import { authorizerPages } from './authorizer-list.js';
import { connectComponent } from './connect.js';
import { mapInOrder } from './in-order.js';

/** api_get_authorizer_info calls in flight at once: a platform of a thousand accounts is listed in seconds, and gently. */
const INFO_CONCURRENCY = 5;

/**
 * Lists the accounts that authorized the platform, a page of 500 at a time, each page written
 * as it comes (with --with-info, once its accounts' details are in). The refresh tokens of the
 * answers are registered as secrets as they are read, and never written.
 */
export async function runAuthorizers(plan: AuthorizersPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  let client: ApiClient | undefined;
  try {
    ({ client } = connectComponent(plan.connection, reporter, plan.withInfo ? { connections: INFO_CONCURRENCY } : {}));
    const sink = new Sink(await authorizerFormat(plan.format), new StreamOutput(io.stdout, true), { bom: plan.bom });
    const tally = await writePages(client, plan, sink, (secret) => reporter.addSecret(secret));
    await sink.finish();
    if (!plan.connection.quiet) reporter.line(summary(tally, plan.withInfo));
    return ExitCode.Ok;
  } catch (error) {
    return reporter.error(error);
  } finally {
    await client?.close();
  }
}

interface Tally {
  listed: number;
  granted: number;
  withdrawn: number;
}

/** Every page of the list, each written as it comes. */
async function writePages(
  client: ApiClient,
  plan: AuthorizersPlan,
  sink: Sink<AuthorizerRow>,
  onSecret: (secret: string) => void,
): Promise<Tally> {
  const componentAppid = plan.connection.component.appid.value;
  const tally: Tally = { listed: 0, granted: 0, withdrawn: 0 };
  for await (const entries of authorizerPages(client, componentAppid, onSecret)) {
    const rows = plan.withInfo
      ? await withDetails(client, componentAppid, entries, onSecret)
      : entries.map((entry) => ({ appid: entry.appid, authTime: entry.authTime, details: undefined }));
    await sink.writePage(rows);
    for (const row of rows) {
      if (row.details === 'withdrawn') tally.withdrawn += 1;
      else if (row.details?.userManagement === true) tally.granted += 1;
    }
    tally.listed += rows.length;
  }
  return tally;
}

/** Each account's details, INFO_CONCURRENCY at once, in the list's order; one withdrawn since (61003) says so in its row. */
async function withDetails(
  client: ApiClient,
  componentAppid: string,
  entries: readonly AuthorizerEntry[],
  onSecret: (secret: string) => void,
): Promise<AuthorizerRow[]> {
  const rows: AuthorizerRow[] = [];
  const work = async (entry: AuthorizerEntry, signal: AbortSignal): Promise<AuthorizerRow> => {
    const base = { appid: entry.appid, authTime: entry.authTime };
    try {
      const info = await fetchAuthorizerInfo(client, { componentAppid, authorizerAppid: entry.appid }, onSecret, signal);
      const { name, serviceType, verifyType, userManagement } = info;
      return { ...base, details: { name, serviceType, verifyType, userManagement } };
    } catch (error) {
      if (error instanceof WxError && error.errcode === AUTHORIZATION_WITHDRAWN) return { ...base, details: 'withdrawn' };
      throw error;
    }
  };
  for await (const row of mapInOrder(entries, INFO_CONCURRENCY, work)) rows.push(row);
  return rows;
}

function summary(tally: Tally, withInfo: boolean): string {
  const listed = `wx-followers: ${counted(tally.listed, 'account')} authorized the platform`;
  if (!withInfo)
    return `${listed}. With --with-info: their names, types, and whether each granted user management (needed to export its followers).`;
  const denied = tally.listed - tally.granted - tally.withdrawn;
  const withdrawn = tally.withdrawn === 0 ? '' : `; ${grouped(tally.withdrawn)} withdrew it since the list was read`;
  return `${listed}; ${grouped(tally.granted)} granted user management, ${grouped(denied)} did not (their followers cannot be exported)${withdrawn}.`;
}
