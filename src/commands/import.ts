import { Command, Option } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function importCommand(io: CommandIo): Command {
  const command = new Command('import')
    .description('append events from an export (NDJSON or CloudEvents JSON), keeping ids and recorded times')
    .argument('<file>', "the file, or '-' for stdin")
    .option('--topic <topic>', 'the topic for events that name none (e.g. foreign CloudEvents)')
    .addOption(new Option('--on-invalid <action>', 'what a bad line gets').choices(['abort', 'skip']).default('abort'))
    .addHelpText(
      'after',
      `
The import is one transaction. Ids are kept, so importing the same file twice appends
nothing the second time. Recorded times are kept too (raised, if needed, so that time
never goes backwards with position): export then import into an empty store round-trips exactly.

Examples:
  $ evlog export > backup.ndjson && evlog import backup.ndjson --db restored.db
  $ evlog export -o cloudevents orders | evlog import - --db copy.db`,
    );
  return setAction(command, io, () => import('./import-action.js'));
}
