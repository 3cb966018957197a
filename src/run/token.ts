import { connect, type Connection, type ConnectionOptions } from './connect.js';
import { ExitCode } from '../errors.js';
import type { IOStreams } from '../console/streams.js';
import { Reporter } from '../console/report.js';

export type TokenOptions = ConnectionOptions;

/** Prints a usable access token for scripts: the one command that prints a secret, on purpose. */
export async function runToken(options: TokenOptions, io: IOStreams): Promise<ExitCode> {
  const reporter = new Reporter(io);
  let connection: Connection | undefined;
  try {
    connection = await connect(options, io, reporter);
    const token = await connection.tokens.token();
    io.stdout.write(`${token.value}\n`);
    return ExitCode.Ok;
  } catch (error) {
    return reporter.error(error);
  } finally {
    await connection?.client.close();
  }
}
