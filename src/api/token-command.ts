import { type ChildProcess, spawn } from 'node:child_process';
import { ExitCode, WxError } from '../errors.js';
import { PROVIDED_TOKEN_FORMAT, readProvidedToken, type ProvidedToken, type TokenProvider } from './token-sources.js';

/** Far more than a token or its JSON: past it, the command is stopped and its output is no token. */
const MAX_STDOUT_BYTES = 64 * 1024;

export interface TokenCommandOptions {
  /** Run through the platform's shell, as npm runs scripts. */
  command: string;
  /** Where it was given: '--token-command', 'WX_TOKEN_COMMAND', 'config key token-command'. */
  from: string;
  /** The environment it runs in (the tool's own), given WX_APPID and WX_TOKEN_REFRESH. */
  env: NodeJS.ProcessEnv;
  appid: string | undefined;
  /** For the third-party platform's command: its component AppID, given as WX_COMPONENT_APPID. */
  componentAppid?: string;
  /** --timeout: the command is stopped past it. */
  timeoutMs: number;
  /** The run's own (Ctrl-C): stops the command too. */
  signal?: AbortSignal;
}

type Outcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: Buffer }
  | { kind: 'timeout' }
  | { kind: 'too-much' }
  | { kind: 'not-started'; code: string };

/**
 * A command that prints the access token (a central token server's client, a vault read): its
 * stdout is read and never shown, whatever it holds; its stderr is the person's to read.
 */
export class TokenCommand implements TokenProvider {
  readonly name: string;
  readonly refreshHint = 'WX_TOKEN_REFRESH=1';
  readonly #options: TokenCommandOptions;

  constructor(options: TokenCommandOptions) {
    this.#options = options;
    this.name = `the token command from ${options.from}`;
  }

  async get(refresh: boolean): Promise<ProvidedToken> {
    const outcome = await runCommand(this.#options, refresh);
    const subject = `The token command from ${this.#options.from}${refresh ? ', asked again with WX_TOKEN_REFRESH=1 after the API refused its token,' : ''}`;
    const fail = (message: string): WxError => new WxError(`${subject} ${message}`, ExitCode.Credentials);
    switch (outcome.kind) {
      case 'not-started':
        throw fail(`could not be started (${outcome.code}). Check that the system's shell can be run.`);
      case 'timeout':
        throw fail(
          `gave no token within ${this.#options.timeoutMs} ms (--timeout) and was stopped. Check that it does not wait for input, a password or a network that does not answer; or raise --timeout.`,
        );
      case 'too-much':
        throw fail(`printed more than ${MAX_STDOUT_BYTES / 1024} KiB and was stopped. ${PROVIDED_TOKEN_FORMAT}.`);
      case 'exited':
        return readOutcome(outcome, fail);
    }
  }
}

function readOutcome(outcome: Extract<Outcome, { kind: 'exited' }>, fail: (message: string) => WxError): ProvidedToken {
  if (outcome.signal !== null) throw fail(`was ended by ${outcome.signal}. Its own messages, if any, are above.`);
  if (outcome.code !== 0) {
    const notFound = outcome.code === 127 ? ': the shell did not find the command; check its spelling and PATH' : '';
    throw fail(
      `failed (exit status ${outcome.code}${notFound}). Its own messages, if any, are above; run it yourself to see what it needs.`,
    );
  }
  const read = readProvidedToken(outcome.stdout.toString('utf8'));
  if ('problem' in read) {
    throw fail(
      `printed ${read.problem} on stdout. ${PROVIDED_TOKEN_FORMAT}. Run it yourself to see what it prints (it is not shown here: it may hold a secret).`,
    );
  }
  return read;
}

/** Runs the command once, its stdout captured (capped), its stderr ours, stopped past --timeout or on the run's signal. */
function runCommand(options: TokenCommandOptions, refresh: boolean): Promise<Outcome> {
  // Not inherited from the person's environment: each is this tool's word to the command (spawn leaves out an undefined one).
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    WX_APPID: options.appid,
    WX_COMPONENT_APPID: options.componentAppid,
    WX_TOKEN_REFRESH: refresh ? '1' : undefined,
  };
  return new Promise<Outcome>((resolve, reject) => {
    // Its own process group on POSIX, so that stopping it stops what the shell started too.
    const child = spawn(options.command, {
      shell: true,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: Outcome | { aborted: unknown }, stop: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (stop) stopTree(child);
      if ('aborted' in outcome) reject(outcome.aborted);
      else resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout' }, true), options.timeoutMs);
    const onAbort = (): void => settle({ aborted: options.signal?.reason }, true);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted === true) onAbort();
    child.stdout?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_STDOUT_BYTES) settle({ kind: 'too-much' }, true);
      else chunks.push(chunk);
    });
    child.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'not-started', code: error.code ?? error.name }, false));
    child.on('close', (code, signal) => settle({ kind: 'exited', code, signal, stdout: Buffer.concat(chunks, size) }, false));
  });
}

/** Stops the command and whatever its shell started: what is left running would hold its pipe open. */
function stopTree(child: ChildProcess): void {
  const { pid } = child;
  if (pid === undefined) return;
  if (process.platform === 'win32') {
    spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => child.kill());
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
