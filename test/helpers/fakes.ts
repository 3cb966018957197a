import { afterEach } from 'vitest';
import { startFakeApi, type FakeApi, type FakeApiOptions } from '../fake-api/server.js';

/**
 * Starts fake APIs for the tests of a file and closes them after each test; `afterClose` sees
 * them once closed, for checks that hold for every test (no legacy token call, say).
 */
export function useFakes(afterClose?: (apis: readonly FakeApi[]) => void): (options: FakeApiOptions) => Promise<FakeApi> {
  const apis: FakeApi[] = [];
  afterEach(async () => {
    const closing = apis.splice(0);
    await Promise.all(closing.map((api) => api.close()));
    afterClose?.(closing);
  });
  return async (options) => {
    const api = await startFakeApi(options);
    apis.push(api);
    return api;
  };
}

/**
 * A fake whose follower list of 50,000 (pages of 1,000) stalls after its fourth call: an export
 * in the middle of its work, for a test that stops it or runs a second one beside it.
 */
export const STALLING_LIST: FakeApiOptions = {
  followers: 50_000,
  pageSize: 1_000,
  fault: (call) => (call.index > 4 ? { kind: 'slow', delayMs: 60_000 } : undefined),
};
