#!/usr/bin/env node
import { main } from '../dist/cli.js';
import { systemStreams } from '../dist/io.js';

process.exitCode = await main(process.argv, systemStreams());
