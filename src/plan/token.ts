import type { IOStreams } from '../console/streams.js';
import { planConnection, type ConnectionFlags, type ConnectionPlan } from './connection.js';

export type TokenFlags = ConnectionFlags;

export interface TokenPlan {
  connection: ConnectionPlan;
}

export async function planToken(flags: TokenFlags, io: IOStreams): Promise<TokenPlan> {
  return { connection: await planConnection(flags, io) };
}
