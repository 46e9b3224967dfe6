import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function replayCommand(io: CommandIo): Command {
  const command = new Command('replay')
    .description("the log up to a point in time: its events, or a projection's state as of then")
    .option('--topic <topic>', 'only this topic')
    .option('--stream <topic/key>', 'only this stream')
    .option('--until <end>', 'the point (inclusive): <position> | <ISO-8601 time> (default: the head)')
    .option('--projection <name>', "print this projection's state as of the point, computed in memory")
    .option('--expect <file.json>', 'with --projection: compare with this file; exit 1 with a diff when they differ')
    .option('--no-snapshots', 'with --projection: fold from position 1 instead of the nearest snapshot')
    .option('-o, --format <fmt>', "events: pretty | json | cloudevents | a template like '{position} {type}'")
    .option('--raw', 'the stored form of each event: no upcasting')
    .addHelpText(
      'after',
      `
With --projection the stored read model is not touched: the state is folded in memory from
the nearest snapshot of the same projection version at or before the point. The output has
sorted keys, so it can be committed as a fixture and checked in CI with --expect.

Examples:
  $ evlog replay --topic orders --until 2026-11-22T09:00:00Z
  $ evlog replay --projection order-totals --until 1500 > expected/order-totals@1500.json
  $ evlog replay --projection order-totals --until 1500 --expect expected/order-totals@1500.json`,
    );
  return setAction(command, io, () => import('./replay-action.js'));
}
