import { usageError } from './errors.js';

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
   * Calls the handler on SIGINT or SIGTERM and gives back the unsubscribe. The process ends at
   * once on a second signal: the way out when a graceful stop hangs.
   */
  onInterrupt(handler: (signal: InterruptSignal) => void): () => void;
}

export type InterruptSignal = 'SIGINT' | 'SIGTERM';

/** 128 + the signal's number, as shells report a process ended by it. */
export function signalExitCode(signal: InterruptSignal): 130 | 143 {
  return signal === 'SIGINT' ? 130 : 143;
}

const SIGNAL_ECHO_MS = 300;

export function systemStreams(): IOStreams {
  // An 'error' without a listener would crash with a stack trace (`--help | head -3`, a full
  // disk); whoever writes learns of the failure from its write callback and reports it.
  process.stdout.on('error', () => undefined);
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
      process.on('SIGINT', listener);
      process.on('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
  };
}

/** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
export function colorEnabled(io: IOStreams): boolean {
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
