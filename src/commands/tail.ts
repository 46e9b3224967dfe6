import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';
import { addEventFilterOptions } from './event-filter-options.js';

export function tailCommand(io: CommandIo): Command {
  const command = new Command('tail')
    .description('print the last events (10 by default), and with -f the new ones as they arrive')
    .argument('[topic...]', 'only these topics (default: all)')
    .option('-n, --lines <n>', 'print the last n events')
    .option('-f, --follow', 'keep printing new events as other processes append them')
    .option('-o, --format <fmt>', "pretty | json | cloudevents | a template like '{position} {type} {data.total}'")
    .option('--limit <n>', 'stop after n events (with --follow too)')
    .option('--idle <duration>', 'with --follow: stop when no new event came for that long (e.g. 30s, for CI)');
  addEventFilterOptions(command).addHelpText(
    'after',
    `
With --from, every event from that point is printed (unless -n asks for the last n).

Examples:
  $ evlog tail                                   the last 10 events of the store
  $ evlog tail orders -n 50 -o json              the last 50 events of a topic, as NDJSON
  $ evlog tail --stream orders/order-17 --from beginning
  $ evlog tail orders -f --type OrderPlaced --where customer.id=42
  $ evlog tail --from 15m -o '{position} {type} {data.total}'
  $ evlog tail orders -f --idle 5s --limit 100   in CI: wait for events, stop when quiet`,
  );
  return setAction(command, io, () => import('./tail-action.js'));
}
