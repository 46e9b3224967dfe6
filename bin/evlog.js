#!/usr/bin/env node
// Starts the compiled CLI (dist/ is built by `npm install` through the prepare script).
import { main, processIo } from '../dist/cli.js';

const code = await main(process.argv.slice(2), processIo());
// Let stdout drain before exiting: set the code instead of calling process.exit().
process.exitCode = code;
