import { malformedAnswer } from '../../errors.js';
import type { ApiClient, JsonObject } from '../client.js';

/**
 * `GET /cgi-bin/get_api_domain_ip`: the API's own address ranges. What it answers does not
 * matter here; that it answers does: it needs only a valid token from a whitelisted IP, and costs
 * none of the quota an export spends. So it is the check of `wx-followers check`.
 */
export function fetchApiDomainIps(client: ApiClient): Promise<string[]> {
  return client.call({ method: 'GET', path: '/cgi-bin/get_api_domain_ip' }, parseDomainIps);
}

function parseDomainIps(answer: JsonObject): string[] {
  const list = answer['ip_list'];
  if (!Array.isArray(list) || !list.every((entry): entry is string => typeof entry === 'string')) {
    throw malformedAnswer('to /cgi-bin/get_api_domain_ip', '`ip_list` is not a list of addresses');
  }
  return list;
}
