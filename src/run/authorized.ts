import { RefreshedAuthorizerTokens } from '../api/authorizer-tokens.js';
import type { ApiClient } from '../api/client.js';
import { AUTHORIZATION_WITHDRAWN } from '../api/errcodes.js';
import { type AuthorizerEntry, fetchAuthorizerInfo } from '../api/endpoints/component.js';
import { AccountReporter, type Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { counted, ExitCode, WxError } from '../errors.js';
import type { AccountsPlan } from '../plan/accounts.js';
import { type AuthorizedAccount, type AuthorizedPlan, planAuthorizedAccounts } from '../plan/authorized.js';
import { type AccountOutcome, accountsInterrupts, exportAccounts, finishAccounts, labelOf } from './accounts.js';
import { allAuthorizers } from './authorizer-list.js';
import { connectComponent } from './connect.js';

/** api_get_authorizer_info calls in flight at once, for {name}. */
const INFO_CONCURRENCY = 4;

/** An account of the run: to export, or failed before its export (not authorized, no user management). */
type Chosen = AuthorizedAccount & { failure?: { exitCode: ExitCode; reason: string } };

/**
 * export --authorized: the platform's list first (a request of the run, not the plan), then the
 * accounts chosen, their names when a template needs them, every account's files planned, and
 * only then the exports, as --profiles runs them. The first signal stops whichever step is under way.
 */
export async function runAuthorized(plan: AuthorizedPlan, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  const interrupts = accountsInterrupts(io, reporter);
  const stopping = new AbortController();
  const stopListening = interrupts.onInterrupt((signal) => stopping.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal))));
  // With {name}, the info calls run a few at once, each on a connection of its own.
  const platform = connectComponent(plan.platform, reporter, {
    signal: stopping.signal,
    connections: plan.needsName ? INFO_CONCURRENCY : 1,
  });
  try {
    let chosen: Chosen[];
    try {
      chosen = await chooseAccounts(plan, platform.client, reporter, stopping.signal);
    } catch (error) {
      return reporter.error(error);
    }
    for (const account of chosen) {
      if (account.failure !== undefined)
        new AccountReporter(io, labelOf(namedOf(account)), reporter).line(`wx-followers: ${account.failure.reason}`);
    }
    let accountsPlan: AccountsPlan;
    try {
      accountsPlan = await planAuthorizedAccounts(
        plan,
        chosen.filter((account) => account.failure === undefined),
        io,
      );
    } catch (error) {
      return reporter.error(error);
    }
    const exported = await exportAccounts(accountsPlan, io, reporter, interrupts);
    return finishAccounts(inListOrder(chosen, exported), plan, reporter);
  } finally {
    stopListening();
    interrupts.close();
    await platform.client.close();
  }
}

/**
 * The accounts of the run, in the list's order (or --authorized's): an AppID the platform does
 * not list, or an account without user management, is that account's failure, said in words.
 */
async function chooseAccounts(plan: AuthorizedPlan, client: ApiClient, reporter: Reporter, signal: AbortSignal): Promise<Chosen[]> {
  const componentAppid = plan.platform.component.appid.value;
  const onSecret = (secret: string): void => reporter.addSecret(secret);
  const entries = await allAuthorizers(client, componentAppid, onSecret, signal);
  const listed = new Map(entries.map((entry) => [entry.appid, entry]));
  const appids = plan.appids ?? [...listed.keys()];
  if (appids.length === 0 && !plan.quiet) {
    reporter.line(`wx-followers: no account has authorized the platform (component AppID ${componentAppid}): nothing to export.`);
  }
  const chosen = appids.map((appid): Chosen => {
    const entry = listed.get(appid);
    if (entry === undefined) {
      const reason = `${appid} is not among the ${counted(entries.length, 'account')} that authorized the platform (component AppID ${componentAppid}): it never did, withdrew, or the AppID is mistyped. Correct it or remove it from --authorized: \`wx-followers accounts\` lists those that did.`;
      return { appid, name: undefined, tokens: undefined, failure: { exitCode: ExitCode.Credentials, reason } };
    }
    return { appid, name: undefined, tokens: tokensOf(plan, client, entry, onSecret) };
  });
  if (plan.needsName) await fetchNames(chosen, { client, componentAppid, onSecret, signal });
  return chosen;
}

/** Without a command or URL of the platform's server: api_authorizer_token with the list's refresh token. */
function tokensOf(plan: AuthorizedPlan, client: ApiClient, entry: AuthorizerEntry, onSecret: (secret: string) => void): Chosen['tokens'] {
  if (plan.tokens.kind !== 'refresh') return undefined;
  const options = {
    client,
    componentAppid: plan.platform.component.appid.value,
    appid: entry.appid,
    refreshToken: entry.refreshToken,
    onSecret,
  };
  return (signal) => new RefreshedAuthorizerTokens(options, signal);
}

/**
 * Each account's name (for {name}) and scopes, a few calls at once. An account that withdrew
 * since the list (61003) or did not grant user management fails alone; any other failure (the
 * platform's token, its whitelist, the network) stops the run before any export.
 */
async function fetchNames(
  chosen: Chosen[],
  context: { client: ApiClient; componentAppid: string; onSecret: (secret: string) => void; signal: AbortSignal },
): Promise<void> {
  const waiting = chosen.filter((account) => account.failure === undefined);
  const worker = async (): Promise<void> => {
    for (let account = waiting.shift(); account !== undefined; account = waiting.shift()) {
      context.signal.throwIfAborted();
      try {
        const info = await fetchAuthorizerInfo(
          context.client,
          { componentAppid: context.componentAppid, authorizerAppid: account.appid },
          context.onSecret,
          context.signal,
        );
        account.name = info.name;
        if (!info.userManagement) account.failure = { exitCode: ExitCode.Credentials, reason: noUserManagement(info.scopes) };
      } catch (error) {
        if (!(error instanceof WxError) || error.errcode !== AUTHORIZATION_WITHDRAWN) throw error;
        account.failure = { exitCode: error.exitCode, reason: error.message };
      }
    }
  };
  await Promise.all(Array.from({ length: INFO_CONCURRENCY }, worker));
}

function noUserManagement(scopes: readonly number[]): string {
  const granted = scopes.length === 0 ? 'none' : scopes.join(', ');
  return (
    `This account has not granted the platform user management (function scope 2; it granted: ${granted}), which the follower list needs. ` +
    "Its administrator must authorize the platform again with user management ticked (the platform's authorization page)."
  );
}

function namedOf(account: Chosen): Pick<AccountOutcome, 'profile' | 'appid' | 'name'> {
  return { profile: undefined, appid: account.appid, ...(account.name === undefined ? {} : { name: account.name }) };
}

/** The outcomes of the accounts exported and of those that failed before, in the run's order. */
function inListOrder(chosen: readonly Chosen[], exported: readonly AccountOutcome[]): AccountOutcome[] {
  let next = 0;
  return chosen.map((account) => {
    if (account.failure === undefined) {
      const outcome = exported[next] as AccountOutcome;
      next += 1;
      return outcome;
    }
    const { exitCode, reason } = account.failure;
    return { ...namedOf(account), status: 'failed', exitCode, written: 0, output: undefined, state: undefined, cursor: undefined, reason };
  });
}
