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
