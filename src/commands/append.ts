import { Command, Option } from 'commander';
import { collect, setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function appendCommand(io: CommandIo): Command {
  const command = new Command('append')
    .description('append one event, or a batch of NDJSON events in one transaction')
    .argument('[topic]', 'the topic (for a batch: the default for lines without one)')
    .argument('[data]', 'the event data as JSON; read from stdin when piped')
    .option('-t, --type <type>', 'the event type, e.g. OrderPlaced (required for a single event)')
    .option('-k, --key <key>', 'the key inside the topic: the event goes to stream topic/key')
    .option('--id <id>', 'idempotency key: the same id with the same content is appended once (default: a UUIDv7)')
    .option('--expect <version>', 'the stream version before this append: a number, none, exists or any', 'any')
    .option('-m, --meta <key=value>', 'a metadata field (repeatable)', collect)
    .option('--correlation-id <id>', 'metadata.correlationId')
    .option('--causation-id <id>', 'metadata.causationId')
    .option('--schema-version <n>', 'the schema version the data follows')
    .option(
      '--batch [file]',
      'append NDJSON lines from a file, or stdin: {"type","data",optional "topic","key","id","metadata","expect"}',
    )
    .addOption(
      new Option('--on-invalid <action>', 'what a bad line in a batch gets')
        .choices(['abort', 'skip', 'dead-letter'])
        .default('abort'),
    )
    .addHelpText(
      'after',
      `
A batch is one transaction: all of it is appended, or nothing (--on-invalid skip appends the
good lines; dead-letter also parks each bad line, in the same transaction, for \`evlog dlq\`).
The envelope that \`tail --json\` prints is accepted as it is, so one store can be copied into another.

Examples:
  $ evlog append orders '{"total":12.5}' -t OrderPlaced -k order-17
  $ echo '{"total":12.5}' | evlog append orders -t OrderPlaced -k order-17 --expect none
  $ evlog append orders --batch events.ndjson
  $ evlog append orders --batch events.ndjson --on-invalid dead-letter   bad lines parked: evlog dlq list
  $ evlog tail --json --from beginning | evlog append --batch --db copy.db`,
    );
  return setAction(command, io, () => import('./append-action.js'));
}
