import type { IOStreams } from '../console/streams.js';
import { planConnection, type ConnectionFlags, type ConnectionPlan } from './connection.js';
import { refuseClosedStdout } from './stdout.js';

export type TokenFlags = ConnectionFlags;

export interface TokenPlan {
  connection: ConnectionPlan;
}

export async function planToken(flags: TokenFlags, io: IOStreams): Promise<TokenPlan> {
  refuseClosedStdout(io, 'the token');
  return { connection: await planConnection(flags, io) };
}
