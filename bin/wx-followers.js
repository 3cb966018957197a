#!/usr/bin/env node
import { main } from '../dist/cli.js';
import { systemStreams } from '../dist/io.js';

const exitCode = await main(process.argv, systemStreams());
// Exit once stdout and stderr are flushed, rather than when the event loop drains: Node would
// otherwise wait for V8 to finish optimizing undici's WebAssembly parser, tens of ms per run.
const flushed = (stream) => new Promise((resolve) => stream.write('', resolve));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(exitCode);
