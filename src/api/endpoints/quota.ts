import { malformedAnswer } from '../../errors.js';
import type { ApiClient, JsonObject } from '../client.js';

/** An API's calls today, as `quota/get` tells them. */
export interface Quota {
  dailyLimit: number;
  used: number;
  remain: number;
}

/**
 * `POST /cgi-bin/openapi/quota/get` for one API path (`/cgi-bin/user/get`). Quotas reset at
 * 00:00 China Standard Time. `uncounted`: not one of the calls --max-calls counts (the estimate
 * a terminal run shows), so that a run does the same work on a terminal as in cron.
 */
export function fetchQuota(client: ApiClient, cgiPath: string, options: { uncounted?: boolean } = {}): Promise<Quota> {
  const request = { method: 'POST' as const, path: '/cgi-bin/openapi/quota/get', body: { cgi_path: cgiPath } };
  return client.call(options.uncounted === true ? { ...request, uncounted: true } : request, parseQuota);
}

function parseQuota(answer: JsonObject): Quota {
  const quota = answer['quota'];
  if (typeof quota !== 'object' || quota === null) throw malformed('it has no `quota`');
  const { daily_limit: dailyLimit, used, remain } = quota as JsonObject;
  if (!isCount(dailyLimit) || !isCount(used) || !isCount(remain)) {
    throw malformed('`quota` lacks a whole number for daily_limit, used or remain');
  }
  return { dailyLimit, used, remain };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function malformed(what: string): ReturnType<typeof malformedAnswer> {
  return malformedAnswer('to /cgi-bin/openapi/quota/get', what);
}
