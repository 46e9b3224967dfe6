import { Command, Option } from 'commander';
import { DEAD_LETTER_REASONS, DEAD_LETTER_STATUSES } from '../store/types.js';
import { type CommandRun, setAction } from './command-action.js';
import type { CommandIo } from './context.js';

type DlqActions = typeof import('./dlq-action.js');

function load(name: keyof DlqActions): () => Promise<{ run: CommandRun }> {
  return async () => ({ run: (await import('./dlq-action.js'))[name] });
}

/** --all, its filters, --dry-run and --yes: the bulk selection shared by redrive and discard. */
function withSelection(command: Command, verb: string): Command {
  return command
    .argument('[id...]', `the entries to ${verb} (see \`evlog dlq list\`)`)
    .option('--all', `${verb} every parked entry that the filters select`)
    .option('--group <name>', 'with --all: only this consumer group, projection, or `append`')
    .option('--type <type>', 'with --all: only events of this type')
    .addOption(new Option('--reason <reason>', 'with --all: only this reason').choices(DEAD_LETTER_REASONS))
    .option('--dry-run', `print what would be done, ${verb} nothing`)
    .option('-y, --yes', 'do not ask for confirmation (needed for --all without a terminal)');
}

export function dlqCommand(io: CommandIo): Command {
  const command = new Command('dlq')
    .description('dead letters: events consumers and projections gave up on, and bad batch lines')
    .addHelpText(
      'after',
      `
Entries come from consumer groups (after their last attempt), projections with
onError: 'dead-letter', and \`append --batch --on-invalid dead-letter\`. An entry stays
parked until it is redriven (delivered again with success) or discarded (kept, marked so).

Examples:
  $ evlog dlq list                                 the parked entries, oldest first
  $ evlog dlq show 12                              one entry: its event, full error and history
  $ evlog dlq redrive 12 13                        deliver them again, now
  $ evlog dlq redrive --all --group mailer --yes   every parked entry of a group
  $ evlog dlq discard --all --reason invalid --dry-run`,
    );
  command.addCommand(
    setAction(
      new Command('list')
        .description('dead letters by id, a page at a time (default: the first 50 parked ones)')
        .option('--group <name>', 'only this consumer group, projection, or `append`')
        .addOption(
          new Option('--status <status>', 'only entries with this status (default parked)').choices(
            DEAD_LETTER_STATUSES,
          ),
        )
        .option('--type <type>', 'only events of this type')
        .addOption(new Option('--reason <reason>', 'only this reason').choices(DEAD_LETTER_REASONS))
        .option('--since <time>', 'last failed at or after: an ISO-8601 time, or a duration ago (15m, 2h, 1d)')
        .option('--until <time>', 'last failed at or before: an ISO-8601 time, or a duration ago')
        .option('--limit <n>', 'entries per page (default 50)')
        .option('--after <id>', 'the page after this id (the hint on stderr gives it)')
        .addHelpText(
          'after',
          `
--json prints one line per entry:
  {"id","group","position","type","reason","error","attempts","status","firstFailedAt","lastFailedAt"}
When more entries match, stderr says how to get the next page.

Examples:
  $ evlog dlq list --group mailer --reason timeout
  $ evlog dlq list --status redriven --since 1d --json
  $ evlog dlq list --limit 100 --after 250`,
        ),
      io,
      load('list'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('show')
        .description('one entry: the event (or the raw batch line), the full error and its history')
        .argument('<id>', 'the entry')
        .addHelpText(
          'after',
          `
Examples:
  $ evlog dlq show 12
  $ evlog dlq show 12 --json        one JSON document, with "event" and "history"`,
        ),
      io,
      load('show'),
    ),
  );
  command.addCommand(
    setAction(
      withSelection(
        new Command('redrive').description(
          "deliver entries again, once, right away: to the group's handler, the projection, or append the line",
        ),
        'redrive',
      ).addHelpText(
        'after',
        `
Each entry is reported as redriven, or failed again (still parked, attempts raised, new
error; the command then exits 1). Entries already redriven or discarded, or held by another
redrive running now, are skipped (said on stderr): running a redrive twice delivers nothing twice.
--json prints one line per entry: {"id","outcome":"redriven"|"failed","error"}.

Examples:
  $ evlog dlq redrive 12
  $ evlog dlq redrive --all --group mailer --dry-run
  $ evlog dlq redrive --all --reason timeout --yes --json`,
      ),
      io,
      load('redrive'),
    ),
  );
  command.addCommand(
    setAction(
      withSelection(
        new Command('discard').description('mark entries discarded: kept for the audit trail, never delivered again'),
        'discard',
      ).addHelpText(
        'after',
        `
A discarded entry keeps its event position (or line), error and history; \`dlq list
--status discarded\` shows it. Entries not parked are skipped.

Examples:
  $ evlog dlq discard 12 13
  $ evlog dlq discard --all --group append --yes`,
      ),
      io,
      load('discard'),
    ),
  );
  return command;
}
