import { Command } from 'commander';
import { type CommandRun, setAction } from './command-action.js';
import type { CommandIo } from './context.js';

type ProjectionActions = typeof import('./projection-action.js');

function load(name: keyof ProjectionActions): () => Promise<{ run: CommandRun }> {
  return async () => ({ run: (await import('./projection-action.js'))[name] });
}

export function projectionCommand(io: CommandIo): Command {
  const command = new Command('projection')
    .description('read models built by pure reducers over the log: list, status, run, rebuild, get')
    .addHelpText(
      'after',
      `
Projections are declared in the config file (evlog.config.mjs), as plain objects:
  { name, version, topics?, types?, key?(event), initialState(), evolve(state, event), snapshotEvery? }
Their read models (state per key, checkpoint, status, last error, snapshots) live in the store.

Examples:
  $ evlog projection run                      catch every projection up to the head
  $ evlog projection run order-totals -f      and keep it current as events arrive
  $ evlog projection status                   checkpoint, lag, status and last error of each
  $ evlog projection get order-totals cust-001 --json
  $ evlog projection rebuild order-totals     after a version bump (status "stale")`,
    );
  command.addCommand(
    setAction(
      new Command('list').description('every projection: version, status, checkpoint, lag, keys, last error'),
      io,
      load('list'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('status')
        .description('name, version, checkpoint, lag (head − checkpoint), status and last error')
        .argument('[name]', 'one projection (default: all)'),
      io,
      load('status'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('run')
        .description('catch projections up from their checkpoints, in batches (one transaction each)')
        .argument('[name...]', 'the projections to run (default: all in the config)')
        .option('-f, --follow', 'keep them current as events arrive (until interrupted)')
        .option('--batch-size <n>', 'events per transaction (default 5000)'),
      io,
      load('run'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('rebuild')
        .description('build from position 1 into a fresh read model, swapped in atomically at the end')
        .argument('<name>', 'the projection')
        .option('--batch-size <n>', 'events per transaction (default 5000)'),
      io,
      load('rebuild'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('get')
        .description("a projection's state: one key's, or an object of all keys' states")
        .argument('<name>', 'the projection')
        .argument('[key]', 'one key (for a projection with a key function)'),
      io,
      load('get'),
    ),
  );
  return command;
}
