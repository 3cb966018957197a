import { PassThrough } from 'node:stream';
import { expect } from 'vitest';
import type { IOStreams } from '../../src/console/streams.js';
import { ExitCode, WxError } from '../../src/errors.js';

/** Streams of a command run in-process (after gh's iostreams.Test()): buffers, no terminal, no signals. */
export interface TestStreams extends IOStreams {
  out(): string;
  err(): string;
}

export function testStreams(env: NodeJS.ProcessEnv = {}, stdin = ''): TestStreams {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  stdout.on('data', (chunk: Buffer) => chunks.out.push(chunk));
  stderr.on('data', (chunk: Buffer) => chunks.err.push(chunk));
  const input = new PassThrough();
  input.end(stdin);
  return {
    stdin: input,
    stdout,
    stderr,
    stdinIsTTY: false,
    stdoutIsTTY: false,
    stderrIsTTY: false,
    env,
    stdoutClosed: () => false,
    onInterrupt: () => () => undefined,
    out: () => Buffer.concat(chunks.out).toString('utf8'),
    err: () => Buffer.concat(chunks.err).toString('utf8'),
  };
}

/** The message of a plan refused as a usage error (exit 2); fails the test on any other outcome. */
export async function usageOf(planning: Promise<unknown>): Promise<string> {
  const error = await planning.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WxError);
  expect((error as WxError).exitCode).toBe(ExitCode.Usage);
  return (error as WxError).message;
}
