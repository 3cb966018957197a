import { fstatSync, readSync, statSync } from 'node:fs';
import { isatty } from 'node:tty';
import { ExitCode, WxError, usageError } from '../errors.js';

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
  /** Whether stdout was closed when the process started (`>&-`): what is written there is lost. */
  stdoutClosed(): boolean;
  /**
   * Calls the handler on SIGINT, SIGTERM, SIGHUP or SIGBREAK and gives back the unsubscribe. The
   * process ends at once on a second signal: the way out when a graceful stop hangs. `onQuit`
   * runs just before that exit, synchronously: its last words (where the output stands) and
   * the removal of its locks.
   */
  onInterrupt(handler: (signal: InterruptSignal) => void, onQuit?: (signal: InterruptSignal) => void): () => void;
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
    // Made when first read: most runs never read stdin, and making it costs a few ms of start-up.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: isatty(0),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    stdoutClosed: () => closedAtStart(1),
    onInterrupt: (handler, onQuit) => {
      let firstAt: number | undefined;
      const listener = (signal: InterruptSignal): void => {
        const now = Date.now();
        if (firstAt === undefined) {
          firstAt = now;
          handler(signal);
          return;
        }
        // An exit hook of a dependency (conf's when-exit did) may raise the same signal again at
        // once after its own clean-up: that echo is not a person's second Ctrl-C.
        if (now - firstAt < SIGNAL_ECHO_MS) return;
        try {
          onQuit?.(signal);
        } finally {
          process.exit(signalExitCode(signal));
        }
      };
      for (const signal of INTERRUPT_SIGNALS) process.on(signal, listener);
      return () => {
        for (const signal of INTERRUPT_SIGNALS) process.off(signal, listener);
      };
    },
  };
}

/**
 * Node opens /dev/null, for reading and writing, on a standard fd that was closed at start
 * (`>&-`), and libuv does the same for a child's stdio 'ignore': either way nothing written there
 * is kept. A shell's `> /dev/null` is opened write-only, so reading it fails (EBADF): a person
 * who asks for nothing still gets nothing. Reading /dev/null never blocks and takes nothing.
 */
function closedAtStart(fd: number): boolean {
  if (process.platform === 'win32') return false;
  try {
    const stats = fstatSync(fd);
    if (!stats.isCharacterDevice() || stats.rdev !== statSync('/dev/null').rdev) return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EBADF';
  }
  try {
    readSync(fd, Buffer.alloc(1), 0, 1, null);
    return true;
  } catch {
    return false;
  }
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

/**
 * A value for a '-' argument, trimmed; nothing is a usage error. Piped in, it is read to the end;
 * on a terminal it is asked for on stderr and typed without echo, as passwords are.
 */
export async function readStdinValue(io: IOStreams, what: string, name: string): Promise<string> {
  const value = (io.stdinIsTTY ? await readTyped(io, `${name} (typing is not shown, Enter ends): `) : await readAll(io.stdin)).trim();
  if (value === '') throw usageError(`${what} read nothing from stdin.`);
  return value;
}

/** One line typed on the terminal in raw mode, so that the terminal does not echo it. */
async function readTyped(io: IOStreams, prompt: string): Promise<string> {
  const terminal = io.stdin as NodeJS.ReadStream;
  const raw = typeof terminal.setRawMode === 'function';
  // Echo off before the prompt shows: what is typed after it must never be drawn.
  if (raw) terminal.setRawMode(true);
  io.stderr.write(prompt);
  let typed: string[] = [];
  try {
    return await new Promise<string>((resolve, reject) => {
      const finish = (): void => {
        terminal.off('data', onData);
        terminal.off('end', finish);
        resolve(typed.join(''));
      };
      const onData = (chunk: Buffer | string): void => {
        for (const character of String(chunk)) {
          if (character === '\r' || character === '\n' || character === '\u0004') {
            finish();
            return;
          }
          if (character === '\u0003') {
            // Raw mode turns Ctrl-C into a character: it still means stop.
            terminal.off('data', onData);
            terminal.off('end', finish);
            reject(new WxError('Interrupted (SIGINT).', ExitCode.Interrupted));
            return;
          }
          if (character === '\u007f' || character === '\b') typed = typed.slice(0, -1);
          else if (character === '\u0015') typed = [];
          else if (character >= ' ') typed.push(character);
        }
      };
      terminal.on('data', onData);
      terminal.on('end', finish);
      terminal.resume();
    });
  } finally {
    if (raw) terminal.setRawMode(false);
    terminal.pause();
    io.stderr.write('\n');
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A yes or no typed on the terminal (the caller made sure stdin is one); anything but y or yes is no. */
export async function askYesNo(io: IOStreams, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const terminal = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdinIsTTY });
  try {
    const answer = await terminal.question(question);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    terminal.close();
  }
}
