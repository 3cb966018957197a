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

export function systemStreams(): IOStreams {
  // A reader that goes away (`--help | head -3`) is no crash; the export sees the EPIPE itself.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: process.stdin.isTTY === true,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    onInterrupt: (handler) => {
      let received = 0;
      const listener = (signal: InterruptSignal): void => {
        received += 1;
        if (received > 1) process.exit(signalExitCode(signal));
        handler(signal);
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

export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
