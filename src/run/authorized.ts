import type { Reporter } from '../console/report.js';
import type { IOStreams } from '../console/streams.js';
import type { ExitCode } from '../errors.js';
import type { AccountsPlan } from '../plan/accounts.js';
import { type AuthorizedPlan, planAuthorizedAccounts } from '../plan/authorized.js';
import { type AccountOutcome, exportAccounts, finishAccounts } from './accounts.js';
import { runAuthorizedAccounts } from './authorized-accounts.js';

/**
 * export --authorized: the platform's list, the accounts chosen (their names when a template
 * needs them), every account's files planned, then the exports, as --profiles runs them.
 */
export async function runAuthorized(plan: AuthorizedPlan, io: IOStreams, reporter: Reporter): Promise<ExitCode> {
  return runAuthorizedAccounts<AccountsPlan, AccountOutcome>(plan.selection, io, reporter, {
    verb: 'export',
    needsName: plan.needsName,
    plan: (accounts) => planAuthorizedAccounts(plan, accounts, io),
    run: (accountsPlan, interrupts) => exportAccounts(accountsPlan, io, reporter, interrupts),
    failedBefore: (account, { exitCode, reason }) => ({
      ...account,
      status: 'failed',
      exitCode,
      written: 0,
      output: undefined,
      state: undefined,
      cursor: undefined,
      reason,
    }),
    finish: (outcomes) => finishAccounts(outcomes, plan.selection, reporter),
  });
}
