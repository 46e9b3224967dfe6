import { existsSync } from 'node:fs';
import type { CommandRun } from './command-action.js';
import { resolveStorePath, wantsJson, withStore } from './context.js';

/** `evlog init`: creates the store, or says it is already there. Safe to run twice. */

export const run: CommandRun = async (context, _args, _raw) => {
  const { io } = context;
  const path = await resolveStorePath(context);
  const created = !existsSync(path);
  const stats = await withStore(context, { create: true }, (store) => store.stats());
  if (wantsJson(context)) {
    io.stdout.write(`${JSON.stringify({ path, created, schemaVersion: stats.schemaVersion, events: stats.events })}\n`);
  } else if (!context.globals.quiet) {
    io.stdout.write(
      created
        ? `created an empty evlog store at ${path}\n`
        : `${path} is already an evlog store (${stats.events} events)\n`,
    );
  }
};
