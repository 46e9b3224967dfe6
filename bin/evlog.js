#!/usr/bin/env node
// Starts the compiled CLI (dist/ is built by `npm install` through the prepare script).
import { main, processIo } from '../dist/cli.js';

const code = await main(process.argv.slice(2), processIo());
// Let stdout drain before exiting: set the code instead of calling process.exit().
process.exitCode = code;
// Work a command left behind must not keep it alive once it is done: a consumer's module
// handler that timed out may still wait on a timer of its own. This timer does not keep the
// process alive itself (unref): a process with nothing left to do exits at once, as before.
setTimeout(() => process.exit(), 1000).unref();
