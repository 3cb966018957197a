import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, DEFAULT_RETRY_POLICY, type JsonObject, type RetryPolicy, type TokenSource } from '../src/api/client.js';
import { WxError } from '../src/errors.js';
import { FAKE_TOKEN, startFakeApi, type FakeApi, type FakeApiOptions } from './fake-api/server.js';

/** The answer as the client gives it, a JSON object without a non-zero errcode. */
const asIs = (answer: JsonObject): JsonObject => answer;

const givenToken: TokenSource = {
  token: async () => ({ value: FAKE_TOKEN, generation: 0 }),
  renew: async (_refused, refusal) => {
    throw refusal;
  },
  isSuperseded: () => false,
  discard: async () => undefined,
  refusedAfterRenewal: (refusal) => refusal,
};

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

/** The real client against the real fake server; waits are recorded as asked (unscaled), and shrunk to nothing. */
async function client(
  options: FakeApiOptions,
  policy: Partial<RetryPolicy> = {},
): Promise<{ client: ApiClient; waits: [string, number][] }> {
  api = await startFakeApi(options);
  const waits: [string, number][] = [];
  const apiClient = new ApiClient({
    baseUrl: new URL(api.url),
    timeoutMs: 200,
    tokens: givenToken,
    userAgent: 'test',
    retry: { ...DEFAULT_RETRY_POLICY, delayScale: 0, ...policy },
    onWait: (reason, waitMs) => waits.push([reason, waitMs]),
  });
  return { client: apiClient, waits };
}

const listRequest = { method: 'GET', path: '/cgi-bin/user/get' } as const;

describe('retries', () => {
  it('honours Retry-After on a 503', async () => {
    const { client: apiClient, waits } = await client(
      {
        followers: 3,
        errorHeaders: { 'retry-after': '7' },
        fault: (call) => (call.index === 1 ? { kind: 'status', status: 503 } : undefined),
      },
      { delayScale: 1 / 7000 },
    );
    await apiClient.send({ ...listRequest, query: { access_token: FAKE_TOKEN } }, asIs);
    expect(waits).toEqual([['retrying after a network or server error', 7000]]);
    await apiClient.close();
  });

  it('backs off exponentially with full jitter, up to the cap', async () => {
    const { client: apiClient, waits } = await client(
      { followers: 3, fault: (call) => (call.index <= 5 ? { kind: 'errcode', errcode: -1 } : undefined) },
      { random: () => 0.5, delayScale: 1, baseDelayMs: 1, maxDelayMs: 10 },
    );
    await apiClient.send({ ...listRequest, query: { access_token: FAKE_TOKEN } }, asIs);
    expect(waits.map(([, ms]) => ms)).toEqual([0.5, 1, 2, 4, 5]);
    expect(waits[0]?.[0]).toBe('retrying (errcode -1)');
    await apiClient.close();
  });

  it('waits for the next minute on 45011, as one retry', async () => {
    const minute = Date.UTC(2026, 10, 21, 12, 0, 0);
    const { client: apiClient, waits } = await client(
      { followers: 3, fault: (call) => (call.index <= 2 ? { kind: 'errcode', errcode: 45011 } : undefined) },
      { now: () => minute + 45_250, retries: 1, delayScale: 0 },
    );
    const error = await apiClient.send({ ...listRequest, query: { access_token: FAKE_TOKEN } }, asIs).catch((caught: unknown) => caught);
    expect(waits).toEqual([['waiting for the next minute (per-minute limit, errcode 45011)', 14_750]]);
    expect(error).toBeInstanceOf(WxError);
    expect((error as WxError).exitCode).toBe(4);
    expect((error as WxError).message).toMatch(/Gave up after 1 retry\./);
    await apiClient.close();
  });

  it('computes the wait to the next minute from the clock', async () => {
    const minute = Date.UTC(2026, 10, 21, 12, 0, 0);
    const { client: apiClient, waits } = await client(
      { followers: 3, fault: (call) => (call.index === 1 ? { kind: 'errcode', errcode: 45011 } : undefined) },
      { now: () => minute + 45_250, delayScale: 1 / 1000 },
    );
    await apiClient.send({ ...listRequest, query: { access_token: FAKE_TOKEN } }, asIs);
    expect(waits.map(([, ms]) => ms)).toEqual([14_750]);
    await apiClient.close();
  });

  it.each([
    ['a reset connection', { kind: 'reset' } as const],
    ['HTTP 503', { kind: 'status', status: 503 } as const],
    ['HTTP 429', { kind: 'status', status: 429 } as const],
    ['errcode -1', { kind: 'errcode', errcode: -1 } as const],
    ['a body cut off halfway', { kind: 'truncate' } as const],
    ['an answer slower than the timeout', { kind: 'slow', delayMs: 400 } as const],
  ])('retries %s from the same request', async (_name, fault) => {
    const { client: apiClient, waits } = await client({ followers: 3, fault: (call) => (call.index <= 2 ? fault : undefined) });
    const answer = await apiClient.send({ ...listRequest, query: { access_token: FAKE_TOKEN, next_openid: api!.followers.at(0) } }, asIs);
    expect(answer['count']).toBe(2);
    expect(waits).toHaveLength(2);
    expect(api!.calls.map((call) => call.query.get('next_openid'))).toEqual(Array(3).fill(api!.followers.at(0)));
    await apiClient.close();
  });

  it('does not retry what will not pass: 45009, 40001, HTTP 404', async () => {
    for (const fault of [
      { kind: 'errcode', errcode: 45009 },
      { kind: 'errcode', errcode: 40001 },
      { kind: 'status', status: 404 },
    ] as const) {
      const { client: apiClient, waits } = await client({ followers: 3, fault: () => fault });
      await expect(apiClient.send({ ...listRequest, query: { access_token: FAKE_TOKEN } }, asIs)).rejects.toBeInstanceOf(WxError);
      expect(waits).toEqual([]);
      expect(api!.calls).toHaveLength(1);
      await apiClient.close();
      await api!.close();
      api = undefined;
    }
  });
});
