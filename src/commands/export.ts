import { Command, Option } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';
import { addEventFilterOptions } from './event-filter-options.js';

export function exportCommand(io: CommandIo): Command {
  const command = new Command('export')
    .description('write events to stdout as NDJSON (the tail --json envelope) or CloudEvents JSON')
    .argument('[topic...]', 'only these topics (default: all)')
    .addOption(
      new Option('-o, --format <fmt>', 'ndjson | cloudevents')
        .choices(['ndjson', 'json', 'cloudevents'])
        .default('ndjson'),
    );
  addEventFilterOptions(command).addHelpText(
    'after',
    `
Examples:
  $ evlog export > backup.ndjson
  $ evlog export orders --from 2026-11-01 --until 2026-11-30T23:59:59Z -o cloudevents > november.ndjson`,
  );
  return setAction(command, io, () => import('./export-action.js'));
}
