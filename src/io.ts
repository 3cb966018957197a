import { ExitCode, usageError } from './errors.js';

/**
 * Everything a command may touch of the outside world, in one object, so that a test can run
 * a command against buffers (after gh's IOStreams).
 */
export interface IOStreams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  env: NodeJS.ProcessEnv;
  /**
   * Calls the handler on SIGINT, SIGTERM, SIGHUP or SIGBREAK and gives back the unsubscribe. The
   * process ends at once on a second signal: the way out when a graceful stop hangs.
   */
  onInterrupt(handler: (signal: InterruptSignal) => void): () => void;
}

/**
 * Windows never delivers SIGTERM: a console sends SIGINT (Ctrl-C), SIGBREAK (Ctrl-Break) and
 * SIGHUP (its window closed, with some seconds left before it kills the process).
 */
const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/** 128 + the signal's number, as shells report a process ended by it (SIGBREAK is 21 on Windows). */
export function signalExitCode(signal: InterruptSignal): ExitCode {
  const codes = { SIGHUP: ExitCode.HungUp, SIGINT: ExitCode.Interrupted, SIGTERM: ExitCode.Terminated, SIGBREAK: ExitCode.Broken } as const;
  return codes[signal];
}

const SIGNAL_ECHO_MS = 300;

export function systemStreams(): IOStreams {
  // An 'error' without a listener would crash with a stack trace (`--help | head -3`, a full
  // disk); whoever writes learns of the failure from its write callback and reports it.
  process.stdout.on('error', () => undefined);
  // After SIGHUP the terminal is gone and a write to it fails with EIO: the stop goes on, with
  // nobody left to read its message.
  process.stderr.on('error', () => undefined);
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    onInterrupt: (handler) => {
      let firstAt: number | undefined;
      const listener = (signal: InterruptSignal): void => {
        const now = Date.now();
        if (firstAt === undefined) {
          firstAt = now;
          handler(signal);
          return;
        }
        // conf's atomic writer (when-exit) raises the same signal again at once after its own
        // clean-up: that echo is not a person's second Ctrl-C.
        if (now - firstAt < SIGNAL_ECHO_MS) return;
        process.exit(signalExitCode(signal));
      };
      for (const signal of INTERRUPT_SIGNALS) process.on(signal, listener);
      return () => {
        for (const signal of INTERRUPT_SIGNALS) process.off(signal, listener);
      };
    },
  };
}

/**
 * FORCE_COLOR (https://force-color.org) first, as Node and chalk read it: any non-empty value
 * turns colour on, except 0 and false, which turn it off. Then NO_COLOR (https://no-color.org):
 * any non-empty value turns colour off. Otherwise colour on a terminal.
 */
export function colorEnabled(io: IOStreams): boolean {
  const forceColor = io.env['FORCE_COLOR'];
  if (forceColor !== undefined && forceColor !== '') return forceColor !== '0' && forceColor !== 'false';
  const noColor = io.env['NO_COLOR'];
  return io.stderrIsTTY && (noColor === undefined || noColor === '');
}

/** A value piped in for a '-' argument, without its trailing newline; nothing is a usage error. */
export async function readStdinValue(io: IOStreams, what: string): Promise<string> {
  const value = (await readAll(io.stdin)).trim();
  if (value === '') throw usageError(`${what} read nothing from stdin.`);
  return value;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
