import type { InterruptSignal, IOStreams } from './streams.js';

type Handler = (signal: InterruptSignal) => void;

/**
 * One listener for the process's interrupts, shared out to every run under way (an export per
 * account): the first signal asks each to stop after its page in hand, a second quits them all at
 * once. A run that subscribes after the first signal is told at once.
 */
export class SharedInterrupts {
  readonly #subscribers = new Set<{ handler: Handler; onQuit: Handler | undefined }>();
  readonly #stopListening: () => void;
  #received: InterruptSignal | undefined;

  constructor(io: IOStreams, onFirst: Handler) {
    this.#stopListening = io.onInterrupt(
      (signal) => {
        this.#received = signal;
        onFirst(signal);
        for (const { handler } of [...this.#subscribers]) handler(signal);
      },
      (signal) => {
        for (const { onQuit } of [...this.#subscribers]) onQuit?.(signal);
      },
    );
  }

  /** The signal that came, if one did. */
  get received(): InterruptSignal | undefined {
    return this.#received;
  }

  /** As IOStreams.onInterrupt, for one run. */
  onInterrupt(handler: Handler, onQuit?: Handler): () => void {
    const subscriber = { handler, onQuit };
    this.#subscribers.add(subscriber);
    if (this.#received !== undefined) handler(this.#received);
    return () => {
      this.#subscribers.delete(subscriber);
    };
  }

  close(): void {
    this.#stopListening();
  }
}
