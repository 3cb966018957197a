import type { IOStreams } from '../console/streams.js';
import { ExitCode, WxError } from '../errors.js';

/**
 * A command whose answer is its stdout refuses a closed one (`>&-`, a parent that gave it none)
 * before it does anything: Node puts /dev/null there, and the answer would be lost with exit 0.
 */
export function refuseClosedStdout(io: IOStreams, what: string): void {
  if (!io.stdoutClosed()) return;
  throw new WxError(
    `stdout is closed (\`>&-\`, or started with no stdout), so ${what} would be lost: nothing was done. Send stdout somewhere (\`> FILE\`; \`> /dev/null\` if you really want nothing).`,
    ExitCode.Failure,
  );
}
