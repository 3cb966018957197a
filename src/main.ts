/**
 * The program as bin/wx-followers.cjs runs it: the build bundles this module and everything it
 * imports into dist/main.cjs, one file to load rather than thirty.
 */
export { main } from './cli/program.js';
export { systemStreams } from './console/streams.js';
