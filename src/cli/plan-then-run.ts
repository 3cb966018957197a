import { Reporter } from '../console/report.js';
import type { IOStreams } from '../console/streams.js';
import type { ExitCode } from '../errors.js';

/**
 * A command's body: the plan, checked whole before anything lasts; then the run on it; the exit
 * code of whichever stopped. A plan that fails has created, locked and requested nothing.
 */
export async function planThenRun<Plan>(
  io: IOStreams,
  plan: () => Promise<Plan>,
  run: (plan: Plan, reporter: Reporter) => Promise<ExitCode>,
): Promise<ExitCode> {
  const reporter = new Reporter(io);
  let planned: Plan;
  try {
    planned = await plan();
  } catch (error) {
    return reporter.error(error);
  }
  return run(planned, reporter);
}
