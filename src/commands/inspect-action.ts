import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import type { CommandRun } from './command-action.js';
import { configFor, maxEventBytesFor, withStore } from './context.js';

/** How long the inspector waits for another process's write lock before it says the store is busy. */
const INSPECTOR_BUSY_TIMEOUT_MS = 250;

import { parseOptions } from './parse-options.js';
import { projectionDefinitions } from './projection-definitions.js';
import { recordUpcasterFor } from './upcasting.js';

export const run: CommandRun = async (context, _args, raw) => {
  const options = parseOptions(z.object({ readonly: z.optional(z.boolean()) }), raw);
  const { io } = context;
  // Checked before Ink loads: without a terminal it could only fail on raw mode.
  if (!io.stdin.isTTY || !io.stdout.isTTY) {
    throw new EvlogError('usage', 'evlog inspect needs a terminal: its input and output are not one', {
      hint: 'run it in a terminal; in scripts, use `evlog dlq list`, `evlog tail`, `evlog projection status` or `evlog schema list`',
    });
  }
  // Ink and React load while the store opens and the config is read.
  const loading = Promise.all([import('../tui/create-inspector-data.js'), import('../tui/run-inspector.js')]);
  loading.catch(() => {});
  // A short wait for another process's write lock: the store works synchronously, and the UI
  // must not freeze for the commands' 10 s. A locked store shows as an error; the next key retries.
  await withStore(context, { create: false, busyTimeoutMs: INSPECTOR_BUSY_TIMEOUT_MS }, async (store) => {
    const [{ createInspectorData }, { runInspector }] = await loading;
    const loaded = await configFor(context);
    const data = createInspectorData(store, {
      projections: await projectionDefinitions(context),
      upcast: await recordUpcasterFor(context, store, false),
      config: loaded?.config,
      configPath: loaded?.path,
      cwd: io.cwd,
      env: io.env as NodeJS.ProcessEnv,
      maxEventBytes: maxEventBytesFor(context),
      now: io.now,
    });
    try {
      await runInspector(data, {
        stdin: io.stdin,
        stdout: io.stdout,
        env: io.env,
        readonly: options.readonly === true,
        noColorFlag: context.globals.color === false,
        now: io.now,
      });
    } finally {
      // Left during a redrive: the screen is back already; the entry in flight is finished
      // and recorded before the store closes, and no other entry is started.
      if (data.pending() > 0) io.stderr.write('evlog: waiting for the redrive in flight to finish…\n');
      await data.settle();
    }
  });
};
