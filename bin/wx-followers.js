#!/usr/bin/env node
import module from 'node:module';

// Node 22.1 and newer keep the compiled code of our modules and our dependencies between runs, in
// NODE_COMPILE_CACHE or the system's temporary directory (never in the install, so a global or a
// read-only install is the same); a directory it cannot write only means no cache. Node 20 has
// no such cache, and nothing happens.
module.enableCompileCache?.();
// Imported only now, so that the cache covers them: a static import would load them first.
let loaded;
try {
  loaded = await Promise.all([import('../dist/cli.js'), import('../dist/io.js')]);
} catch (error) {
  // A fresh clone has no dist/ until it is built, nor node_modules/ until it is installed: one
  // line with the next step, not Node's stack trace.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  const unbuilt = /^Cannot find module '[^']*[\\/]dist[\\/]/.test(error.message);
  const line = unbuilt
    ? 'wx-followers: not built yet (dist/ is missing): run `npm run build` first (after `npm install`).\n'
    : 'wx-followers: a dependency is missing (node_modules/ is incomplete): run `npm install` first.\n';
  await new Promise((resolve) => process.stderr.write(line, resolve));
  process.exit(1);
}
const [{ main }, { systemStreams }] = loaded;

const exitCode = await main(process.argv, systemStreams());
// Exit once stdout and stderr are flushed, rather than when the event loop drains: Node would
// otherwise wait for V8 to finish optimizing undici's WebAssembly parser, tens of ms per run.
const flushed = (stream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// The cache is written when the process ends by itself; process.exit() skips that (Node 22.12+).
module.flushCompileCache?.();
process.exit(exitCode);
