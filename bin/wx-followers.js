#!/usr/bin/env node
import module from 'node:module';

// Node 22.1 and newer keep the compiled code of our modules and our dependencies between runs, in
// NODE_COMPILE_CACHE or the system's temporary directory (never in the install, so a global or a
// read-only install is the same); a directory it cannot write only means no cache. Node 20 has
// no such cache, and nothing happens.
module.enableCompileCache?.();
// Imported only now, so that the cache covers them: a static import would load them first.
const [{ main }, { systemStreams }] = await Promise.all([import('../dist/cli.js'), import('../dist/io.js')]);

const exitCode = await main(process.argv, systemStreams());
// Exit once stdout and stderr are flushed, rather than when the event loop drains: Node would
// otherwise wait for V8 to finish optimizing undici's WebAssembly parser, tens of ms per run.
const flushed = (stream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// The cache is written when the process ends by itself; process.exit() skips that (Node 22.12+).
module.flushCompileCache?.();
process.exit(exitCode);
