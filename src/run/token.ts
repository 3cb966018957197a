import { connect, type Connection } from './connect.js';
import { ExitCode } from '../errors.js';
import type { IOStreams } from '../console/streams.js';
import { Reporter } from '../console/report.js';
import type { TokenPlan } from '../plan/token.js';

/** Prints a usable access token for scripts: the one command that prints a secret, on purpose. */
export async function runToken(plan: TokenPlan, io: IOStreams, reporter: Reporter = new Reporter(io)): Promise<ExitCode> {
  let connection: Connection | undefined;
  try {
    connection = connect(plan.connection, reporter);
    const token = await connection.tokens.token();
    io.stdout.write(`${token.value}\n`);
    return ExitCode.Ok;
  } catch (error) {
    return reporter.error(error);
  } finally {
    await connection?.client.close();
  }
}
