import type { Command } from 'commander';
import { collect } from './command-action.js';

/** The options that choose events, shared by `tail` and `export` (parsed by ./event-filter.ts). */
export function addEventFilterOptions(command: Command): Command {
  return command
    .option('--from <start>', 'start at: beginning | <position> | <ISO-8601 time> | <duration> ago (15m, 2h)')
    .option('--until <end>', 'end at (inclusive): <position> | <ISO-8601 time>')
    .option('--stream <topic/key>', 'only this stream')
    .option('-k, --key <key>', 'only events with this key')
    .option('--type <type>', 'only this event type (repeatable)', collect)
    .option(
      '--where <path=value>',
      'only events whose data field equals the value, e.g. customer.id=42 (repeatable)',
      collect,
    )
    .option('--raw', 'the stored form of each event: no upcasting to the latest schema version');
}
