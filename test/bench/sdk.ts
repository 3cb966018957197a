/**
 * What a Node user writes today: a loop over the node-webot SDK (`wechat-api` 1.35.1), its
 * getFollowers with the cursor, writing the OpenIDs a line each. Installed by the bench into a
 * folder of its own, never a dependency of the project: node sdk.js SDK_DIR BASE_URL TOKEN
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

interface FollowerAnswer {
  count?: number;
  data?: { openid: string[] };
  next_openid?: string;
}
type Callback = (error: Error | null, answer: FollowerAnswer) => void;
interface WechatApi {
  endpoint: string;
  getFollowers(callback: Callback): void;
  getFollowers(nextOpenid: string, callback: Callback): void;
}
type TokenGetter = (callback: (error: null, token: { accessToken: string; expireTime: number }) => void) => void;
type TokenSaver = (token: unknown, callback: (error: null) => void) => void;

const [sdkDir, baseUrl, token] = process.argv.slice(2);
if (sdkDir === undefined || baseUrl === undefined || token === undefined) throw new Error('usage: sdk.js SDK_DIR BASE_URL TOKEN');
const WechatAPI = createRequire(join(sdkDir, 'package.json'))('wechat-api') as new (
  appid: string,
  secret: string,
  getToken: TokenGetter,
  saveToken: TokenSaver,
) => WechatApi;
const api = new WechatAPI(
  'appid',
  'secret',
  (callback) => callback(null, { accessToken: token, expireTime: Date.now() + 3_600_000 }),
  (_token, callback) => callback(null),
);
// setEndpoint() would make it https://; the fake is plain HTTP on loopback.
api.endpoint = baseUrl;

const getFollowers = (cursor: string | undefined): Promise<FollowerAnswer> =>
  new Promise((resolve, reject) => {
    const callback: Callback = (error, answer) => (error === null ? resolve(answer) : reject(error));
    if (cursor === undefined) api.getFollowers(callback);
    else api.getFollowers(cursor, callback);
  });

let cursor: string | undefined;
for (;;) {
  const page = await getFollowers(cursor);
  if (page.data === undefined || page.count === 0) break;
  const openids = page.data.openid.filter((openid) => openid !== '');
  if (!process.stdout.write(`${openids.join('\n')}\n`)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  if (!page.next_openid) break;
  cursor = page.next_openid;
}
