import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN } from './server.js';

/**
 * What `npm run demo -- --serve` prints: how to reach the fake, with a token or with the fake
 * account's AppID and AppSecret (for `token`, `config set` and renewal). A module of its own so
 * that a test can run the commands it gives.
 */
export function serveInstructions(url: string): string {
  return (
    `Fake WeChat API with 23,000 followers, tags 2 and 134, and a blacklist, at ${url}. In another shell:\n` +
    `  export WX_API_BASE_URL=${url} WX_ACCESS_TOKEN=${FAKE_TOKEN}\n` +
    '  node bin/wx-followers.cjs tags\n  node bin/wx-followers.cjs export --with-info --limit 500 | head\n' +
    "Or the fake account's AppID and AppSecret instead of a token, to try `token`, `config set` and renewal (its stable tokens live 10 calls):\n" +
    `  unset WX_ACCESS_TOKEN; export WX_API_BASE_URL=${url} WX_APPID=${FAKE_APPID} WX_SECRET=${FAKE_SECRET}\n` +
    '  node bin/wx-followers.cjs token\n' +
    `  node bin/wx-followers.cjs config set appid ${FAKE_APPID}   # and: config set secret -   (paste ${FAKE_SECRET})\n` +
    'Ctrl-C (or SIGTERM, SIGHUP) stops it.\n'
  );
}
