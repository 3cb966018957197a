import type { ApiClient } from '../api/client.js';
import { fetchAuthorizerPage } from '../api/endpoints/component.js';
import { fetchApiDomainIps } from '../api/endpoints/domain-ip.js';
import { fetchQuota, type Quota } from '../api/endpoints/quota.js';
import { ipNotWhitelisted } from '../api/errcodes.js';
import { Reporter } from '../console/report.js';
import type { IOStreams } from '../console/streams.js';
import { counted, ExitCode, grouped, WxError } from '../errors.js';
import { platformsLeftOutNotice } from '../plan/accounts.js';
import { type CheckPlan, type ChecksPlan, checkPlatformInstead } from '../plan/check.js';
import type { ComponentConnectionPlan } from '../plan/component.js';
import type { ConnectionPlan, TransportPlan } from '../plan/connection.js';
import type { AppCredentials } from '../api/endpoints/stable-token.js';
import { mostSerious } from './accounts.js';
import { connect, connectComponent } from './connect.js';
import { nextQuotaReset, untilReset } from './quota-reset.js';

/** The APIs an export spends: the follower list's, and the details' (--with-info). */
const CHECKED_QUOTAS = ['/cgi-bin/user/get', '/cgi-bin/user/info/batchget'] as const;

/** Where the token comes from: never its value. */
interface CredentialsFact {
  kind: 'access-token' | 'appid-secret' | 'token-command' | 'token-url' | 'component-token-command' | 'component-token-url';
  /** A third-party platform's: its AppID, and where that was set. */
  componentAppid?: string;
  componentAppidFrom?: string;
  /** Where the access token, or the token command or URL, comes from ('WX_ACCESS_TOKEN', '--token-command', 'config key token-url'). */
  from?: string;
  appid?: string;
  appidFrom?: string;
  secretFrom?: string;
  /** With a token given: the AppID and AppSecret an export turns to when the API refuses it. */
  fallback?: CredentialsFact;
  /** The given token was refused, and the check went on with one from the AppID and AppSecret. */
  refused?: boolean;
}

type AccessFact = { ok: true } | { ok: false; exitCode: ExitCode; errcode?: number; message: string; seenIp?: string };

type QuotaFact = ({ path: string } & Quota) | { path: string; unknown: string };

/** What `check` reports, in either format. */
interface CheckReport {
  /** With --profiles or --all-profiles: whose. */
  profile?: string;
  ready: boolean;
  exitCode: ExitCode;
  credentials?: CredentialsFact;
  baseUrl?: string;
  proxy?: { url: string; from: string; withUser: boolean } | null;
  proxySkipped?: { from: string; by: string };
  access?: AccessFact;
  quota?: { resetsAt: string; apis: QuotaFact[] };
  /** A third-party platform's: how many accounts authorized it (the list's total_count). */
  authorized?: number;
  /** Why an export would not start, for a person. */
  problem?: string;
}

/**
 * `gh auth status` for this tool: where the credentials come from, whether the API takes them
 * (one get_api_domain_ip call), the proxy, and today's quota. Exit 0 when an export would start,
 * else the code the export would stop with.
 */
async function runCheck(plan: CheckPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  let report: CheckReport;
  if (plan.connection.kind === 'unplanned') {
    const { problem } = plan.connection;
    report = { ready: false, exitCode: problem.exitCode, problem: problem.message };
  } else {
    let client: ApiClient | undefined;
    try {
      if (plan.connection.kind === 'platform') {
        client = connectComponent(plan.connection.plan, reporter).client;
        report = await checkPlatform(plan.connection.plan, client, reporter);
      } else {
        const connection = connect(plan.connection.plan, reporter);
        client = connection.client;
        report = await checkConnection(plan.connection.plan, plan.connection.app, connection);
      }
    } catch (error) {
      // Not a finding of the check but a fault of its own.
      return reporter.error(error);
    } finally {
      await client?.close();
    }
  }
  if (plan.profile !== undefined) report = { profile: plan.profile, ...report };
  const heading = plan.profile === undefined || plan.format === 'json' ? '' : `[${plan.profile}]\n`;
  const text = plan.format === 'json' ? `${JSON.stringify(report)}\n` : heading + textReport(report);
  // The last guard: no fact carries a secret, and none of those known may slip through.
  io.stdout.write(reporter.redact(text));
  if (report.problem !== undefined)
    reporter.line(`wx-followers${plan.profile === undefined ? '' : ` [${plan.profile}]`}: ${report.problem}`);
  return report.exitCode;
}

/**
 * Each account's check in turn (text: a report under each profile's name; json: one object a
 * line, with its profile); the exit code is the most serious, in the order export uses.
 */
export async function runChecks(plan: ChecksPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  const plans = plan.checks;
  if (plan.platformsLeftOut.length > 0 && !plan.quiet) reporter.line(platformsLeftOutNotice(plan.platformsLeftOut, checkPlatformInstead));
  const [only] = plans;
  if (plans.length === 1 && only !== undefined && only.profile === undefined) return runCheck(only, io, reporter);
  const codes: ExitCode[] = [];
  for (const [index, check] of plans.entries()) {
    if (index > 0 && check.format === 'text') io.stdout.write('\n');
    codes.push(await runCheck(check, io, reporter));
  }
  return mostSerious(codes);
}

async function checkConnection(
  plan: ConnectionPlan,
  app: AppCredentials | undefined,
  connection: ReturnType<typeof connect>,
): Promise<CheckReport> {
  const { client, tokens } = connection;
  const report: CheckReport = {
    ready: false,
    exitCode: ExitCode.Ok,
    credentials: credentialsFact(plan, app),
    ...transportFacts(plan),
  };
  report.access = await accessFact(client);
  if (!report.access.ok) return { ...report, exitCode: report.access.exitCode, problem: report.access.message };
  if (plan.credentials.token !== undefined && report.credentials !== undefined) {
    report.credentials.refused = (await tokens.token()).generation > 0;
  }
  const apis: QuotaFact[] = [];
  for (const path of CHECKED_QUOTAS) apis.push(await quotaFact(client, path));
  report.quota = { resetsAt: nextQuotaReset(Date.now()).toISOString(), apis };
  const list = apis[0];
  if (list !== undefined && 'remain' in list && list.remain === 0) {
    return {
      ...report,
      exitCode: ExitCode.Quota,
      problem: `Today's quota of ${list.path} is spent (${grouped(list.dailyLimit)} calls): an export would stop at its first call with exit 4. It resets at 00:00 China Standard Time (16:00 UTC), ${untilReset(Date.now())}.`,
    };
  }
  return { ...report, ready: true };
}

/**
 * A third-party platform's profile: where its component token comes from, and one cheap call
 * that needs it from a whitelisted address (api_get_authorizer_list, one account), which also
 * tells how many accounts authorized the platform.
 */
async function checkPlatform(plan: ComponentConnectionPlan, client: ApiClient, reporter: Reporter): Promise<CheckReport> {
  const { appid, service } = plan.component;
  if (service.kind === 'provided') throw new Error("a platform's component token is never provided");
  const report: CheckReport = {
    ready: false,
    exitCode: ExitCode.Ok,
    credentials: {
      kind: service.kind === 'command' ? 'component-token-command' : 'component-token-url',
      from: service.from,
      componentAppid: appid.value,
      componentAppidFrom: appid.origin,
    },
    ...transportFacts(plan),
  };
  try {
    const page = await fetchAuthorizerPage(client, { componentAppid: appid.value, offset: 0, count: 1 }, (secret) =>
      reporter.addSecret(secret),
    );
    return { ...report, ready: true, access: { ok: true }, authorized: page.totalCount };
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    const access = failedAccess(error);
    return { ...report, exitCode: access.exitCode, access, problem: access.message };
  }
}

function credentialsFact(plan: ConnectionPlan, app: AppCredentials | undefined): CredentialsFact {
  const fromApp: CredentialsFact | undefined =
    app === undefined
      ? undefined
      : {
          kind: 'appid-secret',
          appid: app.appid,
          ...(app.origins === undefined ? {} : { appidFrom: app.origins.appid, secretFrom: app.origins.secret }),
        };
  const { token, service } = plan.credentials;
  if (service !== undefined) {
    // The command's text and the URL's query may carry a key: where it was set is said, never what it holds.
    // `check` plans no account of --authorized: its tokens come from a command or a URL.
    if (service.kind === 'provided') throw new Error('check was planned with an authorized account');
    const appid = service.kind === 'command' ? service.appid : undefined;
    return {
      kind: service.kind === 'command' ? 'token-command' : 'token-url',
      from: service.from,
      ...(appid === undefined ? {} : { appid }),
    };
  }
  if (token !== undefined) return { kind: 'access-token', from: token.origin, ...(fromApp === undefined ? {} : { fallback: fromApp }) };
  // The plan refuses a run with neither.
  return fromApp ?? { kind: 'appid-secret' };
}

/** Where the calls go, and through which proxy (never its password). */
function transportFacts(plan: TransportPlan): Pick<CheckReport, 'baseUrl' | 'proxy' | 'proxySkipped'> {
  return {
    baseUrl: plan.baseUrl.href.replace(/\/$/, ''),
    proxy:
      plan.proxy === undefined
        ? null
        : {
            url: `${plan.proxy.url.protocol}//${plan.proxy.label}`,
            from: plan.proxy.from,
            withUser: plan.proxy.authorization !== undefined,
          },
    ...(plan.proxySkipped === undefined ? {} : { proxySkipped: plan.proxySkipped }),
  };
}

/** One call that needs only a valid token from a whitelisted address: what every export's first call needs. */
async function accessFact(client: ApiClient): Promise<AccessFact> {
  try {
    await fetchApiDomainIps(client);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    return failedAccess(error);
  }
}

/** A refused or failed probe, as a fact: on 40164 or 61004 (a whitelist), the address the API saw. */
function failedAccess(error: WxError): Extract<AccessFact, { ok: false }> {
  const whitelist = error.errcode === 40164 || error.errcode === 61004;
  const seenIp = whitelist && error.errmsg !== undefined ? ipNotWhitelisted(error.errmsg) : undefined;
  return {
    ok: false,
    exitCode: error.exitCode,
    ...(error.errcode === undefined ? {} : { errcode: error.errcode }),
    message: error.message,
    ...(seenIp === undefined ? {} : { seenIp }),
  };
}

/** A quota that cannot be read (48001 for accounts without quota/get) is unknown, not a failed check. */
async function quotaFact(client: ApiClient, path: string): Promise<QuotaFact> {
  try {
    return { path, ...(await fetchQuota(client, path)) };
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    return { path, unknown: error.message };
  }
}

/** One line a fact, for a person. */
function textReport(report: CheckReport): string {
  const lines: [string, string][] = [];
  if (report.credentials !== undefined) lines.push(...credentialLines(report.credentials));
  if (report.baseUrl !== undefined) lines.push(['API', report.baseUrl]);
  if (report.proxy !== undefined) lines.push(['Proxy', proxyText(report)]);
  const platform = report.credentials?.componentAppid !== undefined;
  if (report.access?.ok === true && platform)
    lines.push(['Access', 'the API takes the component token (api_get_authorizer_list answered)']);
  else if (report.access !== undefined) lines.push(...accessLines(report.access, report.proxy !== null && report.proxy !== undefined));
  if (report.authorized !== undefined) {
    lines.push(['Authorized', `${counted(report.authorized, 'account')} authorized the platform (\`wx-followers accounts\` lists them)`]);
  }
  if (report.quota !== undefined) {
    for (const api of report.quota.apis) {
      const name = `Quota ${api.path.replace('/cgi-bin/', '')}`;
      lines.push([
        name,
        'unknown' in api
          ? `unknown (${api.unknown})`
          : `${grouped(api.remain)} of ${grouped(api.dailyLimit)} calls left today (${grouped(api.used)} used)`,
      ]);
    }
    lines.push(['Quota resets', `00:00 China Standard Time (16:00 UTC), ${untilReset(Date.now())}`]);
  }
  lines.push([
    'Result',
    report.ready
      ? `ready: an export${platform ? ' --authorized' : ''} would start (exit 0)`
      : `not ready: an export${platform ? ' --authorized' : ''} would stop with exit ${report.exitCode}`,
  ]);
  const width = Math.max(...lines.map(([label]) => label.length)) + 2;
  return lines.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}\n`).join('');
}

function credentialLines(fact: CredentialsFact): [string, string][] {
  if (fact.kind === 'component-token-command' || fact.kind === 'component-token-url') {
    const what = fact.kind === 'component-token-command' ? 'a token command' : 'a token service (URL)';
    return [
      ['Platform', `third-party platform, component AppID ${fact.componentAppid} from ${fact.componentAppidFrom}`],
      ['Credentials', `component token from ${what} set by ${fact.from} (neither shown); the tool never mints one`],
    ];
  }
  if (fact.kind === 'token-command' || fact.kind === 'token-url') {
    const what = fact.kind === 'token-command' ? 'a token command' : 'a token service (URL)';
    return [['Credentials', `access token from ${what} set by ${fact.from} (neither shown); the tool never mints one`]];
  }
  if (fact.kind === 'access-token') {
    const refused = fact.refused === true ? '; refused by the API, so an export would use a token from the AppID and AppSecret' : '';
    const lines: [string, string][] = [['Credentials', `access token from ${fact.from} (not shown)${refused}`]];
    if (fact.fallback !== undefined) lines.push(['Fallback', `${appText(fact.fallback)}, if the API refuses the token`]);
    return lines;
  }
  return [['Credentials', `${appText(fact)}: a stable token, cached between runs`]];
}

function appText(fact: CredentialsFact): string {
  const appid = fact.appidFrom === undefined ? `AppID ${fact.appid}` : `AppID ${fact.appid} from ${fact.appidFrom}`;
  return fact.secretFrom === undefined ? `${appid} and its AppSecret` : `${appid} and AppSecret from ${fact.secretFrom} (not shown)`;
}

function proxyText(report: CheckReport): string {
  const { proxy, proxySkipped } = report;
  if (proxy !== null && proxy !== undefined)
    return `${proxy.url} from ${proxy.from}${proxy.withUser ? ', with a user and password (not shown)' : ''}`;
  return proxySkipped === undefined ? 'none' : `none (the one from ${proxySkipped.from} is not used: ${proxySkipped.by} lists this host)`;
}

/** On 40164, the address the API saw and the two ways out. */
function accessLines(access: AccessFact, throughProxy: boolean): [string, string][] {
  if (access.ok) return [['Access', 'the API takes the token (get_api_domain_ip answered)']];
  if (access.errcode !== 40164) return [['Access', `${access.errcode === undefined ? 'failed' : 'refused'}: ${access.message}`]];
  const who = access.seenIp ?? "this machine's address (the API did not name it)";
  const seen = throughProxy ? `${who}, the address of the proxy's server,` : who;
  return [
    ['Access', `refused: the API saw the call come from ${seen} which is not on the account's IP whitelist (errcode 40164)`],
    ['Way out', `add ${access.seenIp ?? 'that address'} to the IP whitelist: Official Account settings, Development > Basic configuration`],
    [
      'Way out',
      throughProxy
        ? 'or use a forward proxy on a server that is on the whitelist (--proxy, the config key proxy, or HTTPS_PROXY)'
        : 'or go through a forward proxy on a whitelisted server: --proxy http://host:port, the config key proxy, or HTTPS_PROXY',
    ],
  ];
}
