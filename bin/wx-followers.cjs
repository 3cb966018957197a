#!/usr/bin/env node
// CommonJS, unlike the rest: Node starts a CommonJS entry without its ES module loader, a few
// ms of every run (`--version` in a shell loop costs no more than `node -e 0`).
const { readFileSync, writeSync } = require('node:fs');
const { isatty } = require('node:tty');
const { join } = require('node:path');
const nodeModule = require('node:module');

// `--version` and `--help` alone, as scripts and shell loops ask for them, are answered before
// anything else is loaded: the program's own answers, kept by the build (dist/help.txt is what
// `--help` printed through commander then). On a terminal, help is fitted to its width, so
// commander renders it afresh.
function earlyAnswer(args) {
  if (args.length !== 1) return undefined;
  const [arg] = args;
  try {
    if (arg === '--version' || arg === '-V') return `${JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version}\n`;
    if ((arg === '--help' || arg === '-h') && !isatty(1)) return readFileSync(join(__dirname, '..', 'dist', 'help.txt'), 'utf8');
  } catch {
    // Not built yet, or a damaged install: the long way says what is wrong.
  }
  return undefined;
}

/** The exit code: 1 when stdout cannot take the text (a full disk), as for any other output. */
async function writeOut(text) {
  const bytes = Buffer.from(text);
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(1, bytes, done);
    return 0;
  } catch (error) {
    // A reader that went away (`--help | head -1`) has had what it wanted; a full non-blocking
    // pipe (EAGAIN) takes the rest through the stream, which waits for it to drain.
    if (error?.code === 'EPIPE') return 0;
    if (error?.code !== 'EAGAIN') return failedStdout(error);
    process.stdout.on('error', () => undefined);
    const failure = await new Promise((resolve) => process.stdout.write(bytes.subarray(done), resolve));
    return failure && failure.code !== 'EPIPE' ? failedStdout(failure) : 0;
  }
}

function failedStdout(error) {
  process.stderr.write(`wx-followers: Could not write to stdout: ${error?.message ?? error?.code}.\n`);
  return 1;
}

/** The oldest Node the tool runs on (undici's floor); package.json's engines says the same. */
const NEEDED = [22, 19];

/** On an older Node, one line that says which Node it needs, rather than a stack trace. */
function tooOld() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1])) return undefined;
  return `wx-followers: needs Node.js ${NEEDED.join('.')} or newer (22, 24 or 26); this is Node.js ${process.versions.node}.\n`;
}

async function run() {
  const old = tooOld();
  if (old !== undefined) {
    await new Promise((resolve) => process.stderr.write(old, resolve));
    return 1;
  }
  const early = earlyAnswer(process.argv.slice(2));
  if (early !== undefined) return writeOut(early);
  // Node 22.1 and newer keep the compiled code of our modules and our dependencies between runs,
  // in NODE_COMPILE_CACHE or the system's temporary directory (never in the install, so a global
  // or a read-only install is the same); a directory it cannot write only means no cache.
  nodeModule.enableCompileCache?.();
  let program;
  try {
    program = require('../dist/main.cjs');
  } catch (error) {
    // A fresh clone has no dist/ until it is built, nor node_modules/ until it is installed: one
    // line with the next step, not Node's stack trace.
    if (error?.code !== 'MODULE_NOT_FOUND') throw error;
    const unbuilt = /^Cannot find module '[^']*[\\/]dist[\\/]/.test(error.message);
    const line = unbuilt
      ? 'wx-followers: not built yet (dist/ is missing): run `npm run build` first (after `npm install`).\n'
      : 'wx-followers: a dependency is missing (node_modules/ is incomplete): run `npm install` first.\n';
    await new Promise((resolve) => process.stderr.write(line, resolve));
    return 1;
  }
  // A command whose few lines could not be written (token, config, help through commander) has
  // not done its job: exit 1 with the reason, as an export says it. A reader that went away is not that.
  let stdoutFailure;
  process.stdout.on('error', (error) => {
    if (error?.code !== 'EPIPE') stdoutFailure ??= error;
  });
  let exitCode = await program.main(process.argv, program.systemStreams());
  // Exit once stdout and stderr are flushed, rather than when the event loop drains: Node would
  // otherwise wait for V8 to finish optimizing undici's WebAssembly parser, tens of ms per run.
  const flushed = (stream) => new Promise((resolve) => stream.write('', resolve));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  if (exitCode === 0 && stdoutFailure !== undefined) exitCode = failedStdout(stdoutFailure);
  // The cache is written when the process ends by itself; process.exit() skips that (Node 22.12+).
  nodeModule.flushCompileCache?.();
  return exitCode;
}

run().then((exitCode) => process.exit(exitCode));
