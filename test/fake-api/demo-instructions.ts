import { FAKE_APPID, FAKE_SECRET, FAKE_TOKEN } from './server.js';
import { FAKE_COMPONENT_APPID, FAKE_COMPONENT_TOKEN } from './platform.js';

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
    'Or as an agency: a third-party platform that four accounts authorized (one without user management), its token from a command:\n' +
    `  export WX_API_BASE_URL=${url} WX_COMPONENT_APPID=${FAKE_COMPONENT_APPID} WX_COMPONENT_TOKEN_COMMAND="echo ${FAKE_COMPONENT_TOKEN}"\n` +
    '  node bin/wx-followers.cjs accounts --with-info\n' +
    "  node bin/wx-followers.cjs sync --authorized --db agency.db   # or: export --authorized -o '{appid}.txt'\n" +
    `  Or a platform profile: node bin/wx-followers.cjs config --profile agency set component-appid ${FAKE_COMPONENT_APPID}\n` +
    `    (and set component-token-command "echo ${FAKE_COMPONENT_TOKEN}", set base-url ${url}); then: accounts --profile agency\n` +
    'Ctrl-C (or SIGTERM, SIGHUP) stops it.\n'
  );
}
