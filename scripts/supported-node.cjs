#!/usr/bin/env node
// `npm test`, `npm run demo` and `npm run bench` go through here: CommonJS and nothing newer than
// Node 12's APIs, so that it runs on whatever `node` a machine has. On a Node the project supports,
// it runs the npm script named in its argument on that Node; on an older one (a machine whose own
// Node is 20), on Node 22 from the npm registry's `node` package, installed once into the
// git-ignored .ci/nodes/22 (where .ci/run installs it too), so that a fresh clone's README commands
// work with nothing installed by hand.
const { spawn, spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { delimiter, join } = require('node:path');

const NEEDED = [22, 19];
const FALLBACK_MAJOR = 22;

function supported(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > NEEDED[0] || (major === NEEDED[0] && minor >= NEEDED[1]);
}

/** The bin folder of the registry's Node, installed when it is not there yet. */
function fallbackNodeBin() {
  const prefix = join(__dirname, '..', '.ci', 'nodes', String(FALLBACK_MAJOR));
  const bin = join(prefix, 'node_modules', 'node', 'bin');
  const node = join(bin, process.platform === 'win32' ? 'node.exe' : 'node');
  if (existsSync(node)) return bin;
  process.stderr.write(
    `wx-followers: this is Node.js ${process.versions.node}; the project needs ${NEEDED.join('.')} or newer. ` +
      `Installing Node ${FALLBACK_MAJOR} from the npm registry into .ci/nodes/${FALLBACK_MAJOR} (once) to run on it.\n`,
  );
  const npm = [process.env.npm_execpath, 'install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund'];
  const installed = spawnSync(process.execPath, [...npm, '--loglevel=error', `node@${FALLBACK_MAJOR}`], { stdio: 'inherit' });
  if (installed.status !== 0 || !existsSync(node)) {
    process.stderr.write(
      `wx-followers: could not install Node ${FALLBACK_MAJOR}; install Node.js ${NEEDED.join('.')} or newer and try again.\n`,
    );
    process.exit(1);
  }
  return bin;
}

function main() {
  const given = process.argv.slice(2);
  // TypeScript's tsc keeps a module compile cache in $TMPDIR by default: the test suite leaves
  // nothing behind, so its processes keep none (the CLI's own, under test, is in the suite's root).
  const noCompileCache = given[0] === '--no-compile-cache';
  const [script, ...rest] = noCompileCache ? given.slice(1) : given;
  if (process.env.npm_execpath === undefined || script === undefined) {
    process.stderr.write('usage (from an npm script): node scripts/supported-node.cjs SCRIPT [ARGS...]\n');
    process.exit(2);
  }
  const env = { ...process.env, ...(noCompileCache ? { NODE_DISABLE_COMPILE_CACHE: '1' } : {}) };
  let node = process.execPath;
  if (!supported(process.versions.node)) {
    const bin = fallbackNodeBin();
    node = join(bin, process.platform === 'win32' ? 'node.exe' : 'node');
    // First on PATH: the script's own `node`, tsc and vitest (#!/usr/bin/env node) run on it too.
    const pathKey = Object.keys(env).find((key) => key.toUpperCase() === 'PATH') || 'PATH';
    env[pathKey] = `${bin}${delimiter}${env[pathKey] || ''}`;
  }
  const args = [process.env.npm_execpath, 'run', '--silent', script, ...(rest.length > 0 ? ['--', ...rest] : [])];
  const child = spawn(node, args, { stdio: 'inherit', env });
  // npm hands a signal to its script; the script's own child must have it too (`npm run demo -- --serve`).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // npm hands a SIGTERM to the shell that runs this script, and the shell dies without passing it
  // on: when the parent is gone (this process adopted), the child is stopped as if it had come.
  const parent = process.ppid;
  const orphaned = setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 500);
  child.on('exit', (code, signal) => {
    clearInterval(orphaned);
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code === null ? 1 : code);
  });
}

main();
