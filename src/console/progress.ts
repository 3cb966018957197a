import type { WriteStream } from 'node:tty';
import { colorEnabled, type IOStreams } from './streams.js';
import { grouped } from '../errors.js';

/** What the export loop tells about its advance; shown to a person only when stderr is a TTY. */
export interface Progress {
  /** Whether a person sees it (stderr is a TTY): worth a call to learn a list's size. */
  readonly shown: boolean;
  /** Before the first request. */
  start(what: string): void;
  /** After each page; `total` is the list's size when the API tells it. */
  advance(count: number, total: number | undefined): void;
  /** Why the count stands still (a wait before a retry); cleared by the next advance. */
  note(text: string): void;
  /** A line of its own above the spinner or the bar (the quota estimate), kept on screen. */
  tell(line: string): void;
  /** The run ended well; the line is kept on screen. */
  succeed(summary: string): void;
  /** The run stopped: clear the bar so that the error reads cleanly. */
  stop(): void;
}

const silent: Progress = {
  shown: false,
  start: () => undefined,
  advance: () => undefined,
  note: () => undefined,
  tell: () => undefined,
  succeed: () => undefined,
  stop: () => undefined,
};

export interface ProgressChoice {
  progress: boolean;
  quiet?: boolean;
}

export async function createProgress(io: IOStreams, choice: ProgressChoice): Promise<Progress> {
  if (!io.stderrIsTTY || choice.quiet === true || !choice.progress) return silent;
  // Only here: the spinner and the bar cost start-up time that cron runs must not pay.
  const [{ default: ora }, { default: cliProgress }] = await Promise.all([import('ora'), import('cli-progress')]);
  return new TtyProgress(io, ora, cliProgress);
}

type OraModule = typeof import('ora').default;
type CliProgressModule = typeof import('cli-progress');
type Spinner = ReturnType<OraModule>;
type Bar = InstanceType<CliProgressModule['SingleBar']>;

class TtyProgress implements Progress {
  readonly shown = true;
  readonly #io: IOStreams;
  readonly #ora: OraModule;
  readonly #cliProgress: CliProgressModule;
  readonly #color: boolean;
  #spinner: Spinner | undefined;
  #bar: Bar | undefined;
  #startedAt = 0;

  constructor(io: IOStreams, oraModule: OraModule, cliProgressModule: CliProgressModule) {
    this.#io = io;
    this.#ora = oraModule;
    this.#cliProgress = cliProgressModule;
    this.#color = colorEnabled(io);
  }

  start(what: string): void {
    this.#startedAt = performance.now();
    // ora divides by the terminal's width: a pty that reports 0 columns makes it clear lines forever.
    const columns = (this.#io.stderr as Partial<WriteStream>).columns;
    if (columns === 0) return;
    this.#spinner = this.#ora({
      text: `Fetching the first page of the ${what}`,
      stream: this.#io.stderr,
      isEnabled: true,
      color: this.#color ? 'cyan' : false,
      // stdin may carry the token: ora must not take it over.
      discardStdin: false,
    }).start();
  }

  advance(count: number, total: number | undefined): void {
    if (this.#bar === undefined) {
      this.#spinner?.stop();
      this.#spinner = undefined;
      const format =
        total === undefined
          ? '{value} OpenIDs | {rate}/s {note}'
          : '{bar} {percentage}% | {value}/{total} OpenIDs | {rate}/s | ETA {eta_formatted} {note}';
      this.#bar = new this.#cliProgress.SingleBar(
        { stream: this.#io.stderr, format, hideCursor: true, clearOnComplete: true, etaBuffer: 20 },
        this.#cliProgress.Presets.shades_classic,
      );
      this.#bar.start(total ?? 0, count, { rate: this.#rate(count), note: '' });
      return;
    }
    if (total !== undefined) this.#bar.setTotal(Math.max(total, count));
    this.#bar.update(count, { rate: this.#rate(count), note: '' });
  }

  note(text: string): void {
    if (this.#spinner !== undefined) this.#spinner.text = text;
    if (this.#bar === undefined) return;
    this.#bar.update({ note: `| ${text}` });
    // Drawn now, not at the next frame: a wait may end before it, and a person should see why.
    this.#bar.render();
  }

  tell(line: string): void {
    this.#spinner?.clear();
    // The bar is drawn again, below the line, at the next advance.
    this.#bar?.stop();
    this.#bar = undefined;
    this.#io.stderr.write(`${line}\n`);
    this.#spinner?.render();
  }

  succeed(summary: string): void {
    this.stop();
    this.#io.stderr.write(`${summary}\n`);
  }

  stop(): void {
    this.#spinner?.stop();
    this.#spinner = undefined;
    this.#bar?.stop();
    this.#bar = undefined;
  }

  #rate(count: number): string {
    const seconds = (performance.now() - this.#startedAt) / 1000;
    return seconds > 0 ? grouped(Math.round(count / seconds)) : '-';
  }
}
