import type { IOStreams } from '../console/streams.js';
import { shown, usageError, WxError } from '../errors.js';
import type { AppCredentials } from '../api/endpoints/stable-token.js';
import { planConnection, type ConnectionFlags, type ConnectionPlan } from './connection.js';
import { refuseClosedStdout } from './stdout.js';

export interface CheckFlags extends ConnectionFlags {
  format?: string;
}

/** text: a line a fact, for people; json: one object, for scripts. */
type CheckFormat = 'text' | 'json';

/**
 * What `check` found before any call: the connection planned as an export would plan it, or what
 * would stop an export before its first call (no credentials, a broken config: exit 2). The
 * latter is a finding to report in the chosen format, not a failure of the check.
 */
type CheckConnection = { kind: 'planned'; plan: ConnectionPlan; app: AppCredentials | undefined } | { kind: 'unplanned'; problem: WxError };

export interface CheckPlan {
  format: CheckFormat;
  connection: CheckConnection;
}

export async function planCheck(flags: CheckFlags, io: IOStreams): Promise<CheckPlan> {
  refuseClosedStdout(io, 'the report');
  const format = parseCheckFormat(flags.format);
  try {
    const plan = await planConnection(flags, io);
    // Read now, with a token given too: the fallback an export would turn to is part of what is checked.
    const app = await plan.credentials.app();
    return { format, connection: { kind: 'planned', plan, app } };
  } catch (error) {
    if (!(error instanceof WxError)) throw error;
    return { format, connection: { kind: 'unplanned', problem: error } };
  }
}

function parseCheckFormat(value: string | undefined): CheckFormat {
  if (value === undefined || value === 'text') return 'text';
  if (value === 'json') return 'json';
  throw usageError(`--format of check must be text or json; got '${shown(value)}'.`);
}
