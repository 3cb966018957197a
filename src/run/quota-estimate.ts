import type { ApiClient } from '../api/client.js';
import { DETAILS_BATCH_SIZE } from '../api/endpoints/batchget.js';
import type { FollowerPage } from '../api/endpoints/lists.js';
import { fetchQuota, type Quota } from '../api/endpoints/quota.js';
import { counted, grouped } from '../errors.js';
import type { FollowerList } from '../openid.js';
import type { ExportPlan } from '../plan/export.js';
import { untilReset } from './quota-reset.js';

const LIST_PATHS: Readonly<Record<FollowerList['kind'], string>> = {
  followers: '/cgi-bin/user/get',
  tag: '/cgi-bin/user/tag/get',
  blacklist: '/cgi-bin/tags/members/getblacklist',
};

/** Where the run stands after its first page. */
export interface FirstPage {
  page: FollowerPage;
  /** OpenIDs written so far, those of earlier runs of a --state export included. */
  written: number;
  /** The list's size: the page's total, or the tag's count. */
  total: number | undefined;
}

/**
 * For a person at a terminal, after the first page: how many more calls the rest takes of each
 * quota it spends, and whether today's quota covers them. One quota/get call for each (not counted
 * against --max-calls); undefined when the rest cannot be told (no total, a --resume without
 * --state starts at an unknown place) or the quota cannot be read.
 */
export async function quotaEstimate(client: ApiClient, plan: ExportPlan, first: FirstPage): Promise<string | undefined> {
  if (first.total === undefined || (plan.resume !== undefined && plan.state === undefined)) return undefined;
  const wanted = plan.limit === undefined ? first.total : Math.min(first.total, plan.limit + plan.writtenBefore);
  const left = wanted - first.written;
  const pageSize = first.page.openids.length;
  if (left <= 0 || pageSize === 0) return undefined;
  // The empty answer that tells the end is a call too, unless --limit ends the run first.
  const needs = [{ path: LIST_PATHS[plan.list.kind], calls: Math.ceil(left / pageSize) + (wanted === first.total ? 1 : 0) }];
  if (plan.details !== undefined) needs.push({ path: '/cgi-bin/user/info/batchget', calls: Math.ceil(left / DETAILS_BATCH_SIZE) });
  let quotas: Quota[];
  try {
    quotas = await Promise.all(needs.map((need) => fetchQuota(client, need.path, { uncounted: true })));
  } catch {
    return undefined;
  }
  const parts = needs.map(
    (need, index) =>
      `${counted(need.calls, 'more call')} of ${need.path.replace('/cgi-bin/', '')}, ${grouped(quotas[index]?.remain ?? 0)} left today`,
  );
  const short = needs.filter((need, index) => need.calls > (quotas[index]?.remain ?? 0)).map((need) => need.path.replace('/cgi-bin/', ''));
  const resets = `resets 00:00 China Standard Time, ${untilReset(Date.now())}`;
  const budget =
    plan.maxCalls === undefined
      ? ''
      : ` --max-calls ${plan.maxCalls} stops it after ${counted(Math.max(0, plan.maxCalls - client.callsMade), 'more call')}.`;
  if (short.length === 0) return `wx-followers: ${parts.join('; ')} (${resets}).${budget}`;
  const after =
    plan.state === undefined ? 'with --state the same command goes on after the reset' : 'the same command goes on after the reset';
  return `wx-followers: today's quota of ${short.join(' and ')} will not cover the rest: ${parts.join('; ')} (${resets}). The run will stop with exit 4 when it is spent; ${after}.${budget}`;
}
