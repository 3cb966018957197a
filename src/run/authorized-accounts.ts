/**
 * What `export --authorized` and `sync --authorized` share once they run: the platform's list
 * first (a request of the run, not of the plan), the accounts chosen, their names when wanted,
 * every account planned, and only then the accounts run, each as the command runs one. The first
 * signal stops whichever step is under way.
 */
import { RefreshedAuthorizerTokens } from '../api/authorizer-tokens.js';
import type { ApiClient } from '../api/client.js';
import { AUTHORIZATION_WITHDRAWN } from '../api/errcodes.js';
import { type AuthorizerEntry, fetchAuthorizerInfo } from '../api/endpoints/component.js';
import type { SharedInterrupts } from '../console/interrupts.js';
import { AccountReporter, type Reporter } from '../console/report.js';
import { signalExitCode, type IOStreams } from '../console/streams.js';
import { counted, ExitCode, WxError } from '../errors.js';
import type { AuthorizedAccount, AuthorizedSelection } from '../plan/authorized-selection.js';
import { labelOf, withAccountsInterrupts } from './accounts.js';
import { allAuthorizers } from './authorizer-list.js';
import { connectComponent } from './connect.js';

/** api_get_authorizer_info calls in flight at once, for {name}. */
const INFO_CONCURRENCY = 4;

/** Why an account failed before its run: not listed, no user management, withdrawn. */
interface FailureBefore {
  exitCode: ExitCode;
  reason: string;
}

/** An account of the run: to run, or failed before its run. */
type Chosen = AuthorizedAccount & { failure?: FailureBefore };

/** How an account is named in its lines and its outcome, before it ran. */
interface NamedAccount {
  profile: undefined;
  appid: string;
  name?: string;
}

/** What a command does with the accounts, once the platform's list has chosen them. */
export interface AuthorizedSteps<Planned, Outcome> {
  /** What the run does to an account, for the line of an empty list: 'export', 'sync'. */
  verb: string;
  /** Each account's name (and scopes) fetched first: a template names {name}. */
  needsName: boolean;
  /** Every account to run planned, before any account's call: a usage error stops the run here. */
  plan(accounts: readonly AuthorizedAccount[]): Promise<Planned>;
  /** The accounts run, `interrupts` shared, each outcome in the order they were planned. */
  run(planned: Planned, interrupts: SharedInterrupts): Promise<Outcome[]>;
  /** An account that failed before its run, as an outcome. */
  failedBefore(account: NamedAccount, failure: FailureBefore): Outcome;
  /** The summary and the exit code. */
  finish(outcomes: Outcome[]): Promise<ExitCode>;
}

export async function runAuthorizedAccounts<Planned, Outcome>(
  selection: AuthorizedSelection,
  io: IOStreams,
  reporter: Reporter,
  steps: AuthorizedSteps<Planned, Outcome>,
): Promise<ExitCode> {
  return withAccountsInterrupts(io, reporter, (interrupts) => runOverPlatform(selection, io, reporter, steps, interrupts));
}

async function runOverPlatform<Planned, Outcome>(
  selection: AuthorizedSelection,
  io: IOStreams,
  reporter: Reporter,
  steps: AuthorizedSteps<Planned, Outcome>,
  interrupts: SharedInterrupts,
): Promise<ExitCode> {
  const stopping = new AbortController();
  const stopListening = interrupts.onInterrupt((signal) => stopping.abort(new WxError(`Interrupted (${signal}).`, signalExitCode(signal))));
  // With {name}, the info calls run a few at once, each on a connection of its own.
  const platform = connectComponent(selection.platform, reporter, {
    signal: stopping.signal,
    connections: steps.needsName ? INFO_CONCURRENCY : 1,
  });
  try {
    let chosen: Chosen[];
    let planned: Planned;
    try {
      chosen = await chooseAccounts(selection, steps, { client: platform.client, reporter, signal: stopping.signal });
      for (const account of chosen) {
        if (account.failure !== undefined)
          new AccountReporter(io, labelOf(namedOf(account)), reporter).line(`wx-followers: ${account.failure.reason}`);
      }
      planned = await steps.plan(chosen.filter((account) => account.failure === undefined));
    } catch (error) {
      return reporter.error(error);
    }
    const outcomes = await steps.run(planned, interrupts);
    return await steps.finish(inListOrder(chosen, outcomes, steps));
  } finally {
    stopListening();
    await platform.client.close();
  }
}

interface ListContext {
  client: ApiClient;
  reporter: Reporter;
  signal: AbortSignal;
}

/**
 * The accounts of the run, in the list's order (or --authorized's): an AppID the platform does
 * not list, or an account without user management, is that account's failure, said in words.
 */
async function chooseAccounts(
  selection: AuthorizedSelection,
  steps: Pick<AuthorizedSteps<unknown, unknown>, 'verb' | 'needsName'>,
  { client, reporter, signal }: ListContext,
): Promise<Chosen[]> {
  const componentAppid = selection.platform.component.appid.value;
  const onSecret = (secret: string): void => reporter.addSecret(secret);
  const entries = await allAuthorizers(client, componentAppid, onSecret, signal);
  const listed = new Map(entries.map((entry) => [entry.appid, entry]));
  const appids = selection.appids ?? [...listed.keys()];
  if (appids.length === 0 && !selection.quiet) {
    reporter.line(`wx-followers: no account has authorized the platform (component AppID ${componentAppid}): nothing to ${steps.verb}.`);
  }
  const chosen = appids.map((appid): Chosen => {
    const entry = listed.get(appid);
    if (entry === undefined) {
      const reason = `${appid} is not among the ${counted(entries.length, 'account')} that authorized the platform (component AppID ${componentAppid}): it never did, withdrew, or the AppID is mistyped. Correct it or remove it from --authorized: \`wx-followers accounts\` lists those that did.`;
      return { appid, name: undefined, tokens: undefined, failure: { exitCode: ExitCode.Credentials, reason } };
    }
    return { appid, name: undefined, tokens: tokensOf(selection, client, entry, onSecret) };
  });
  if (steps.needsName) await fetchNames(chosen, { client, componentAppid, onSecret, signal });
  return chosen;
}

/** Without a command or URL of the platform's server: api_authorizer_token with the list's refresh token. */
function tokensOf(
  selection: AuthorizedSelection,
  client: ApiClient,
  entry: AuthorizerEntry,
  onSecret: (secret: string) => void,
): Chosen['tokens'] {
  if (selection.tokens.kind !== 'refresh') return undefined;
  const options = {
    client,
    componentAppid: selection.platform.component.appid.value,
    appid: entry.appid,
    refreshToken: entry.refreshToken,
    onSecret,
  };
  return (signal) => new RefreshedAuthorizerTokens(options, signal);
}

/**
 * Each account's name (for {name}) and scopes, a few calls at once. An account that withdrew
 * since the list (61003) or did not grant user management fails alone; any other failure (the
 * platform's token, its whitelist, the network) stops the run before any account's.
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

function namedOf(account: Chosen): NamedAccount {
  return { profile: undefined, appid: account.appid, ...(account.name === undefined ? {} : { name: account.name }) };
}

/** The outcomes of the accounts run and of those that failed before, in the run's order. */
function inListOrder<Outcome>(
  chosen: readonly Chosen[],
  outcomes: readonly Outcome[],
  steps: Pick<AuthorizedSteps<unknown, Outcome>, 'failedBefore'>,
): Outcome[] {
  let next = 0;
  return chosen.map((account) => {
    if (account.failure === undefined) {
      const outcome = outcomes[next] as Outcome;
      next += 1;
      return outcome;
    }
    return steps.failedBefore(namedOf(account), account.failure);
  });
}
