import { Command, Option } from 'commander';
import { type CommandRun, setAction } from './command-action.js';
import type { CommandIo } from './context.js';

const MODES = ['backward', 'forward', 'full', 'none', 'backward-transitive', 'forward-transitive', 'full-transitive'];

type SchemaActions = typeof import('./schema-action.js');

function load(name: keyof SchemaActions): () => Promise<{ run: CommandRun }> {
  return async () => ({ run: (await import('./schema-action.js'))[name] });
}

export function schemaCommand(io: CommandIo): Command {
  const command = new Command('schema')
    .description('the schema registry: JSON Schemas per event type, in versions, with compatibility modes')
    .addHelpText(
      'after',
      `
An event whose type has a schema is validated on append against the latest version (or
--schema-version n) and stamped with that version.

Modes: backward (default: the new schema reads old data), forward (old schemas read new data),
full (both), none, and backward-transitive, forward-transitive, full-transitive (against every
earlier version, not only the latest).

Examples:
  $ evlog schema register OrderPlaced fixtures/shop/schemas/OrderPlaced.v1.json
  $ evlog schema check OrderPlaced OrderPlaced.v2.json     exit 0 if it would be accepted, 4 if not
  $ evlog schema list
  $ evlog schema compat OrderPlaced full-transitive
  $ evlog schema strict on                                  refuse event types without a schema`,
    );

  command.addCommand(
    setAction(
      new Command('register')
        .description('register a JSON Schema as the next version of a type; prints the version')
        .argument('<type>', 'the event type, e.g. OrderPlaced')
        .argument('<schema.json>', 'the JSON Schema file (draft 2020-12 or draft-07), or - for stdin')
        .addOption(new Option('--compat <mode>', "set the type's compatibility mode first").choices(MODES)),
      io,
      load('register'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('check')
        .description('would this schema be accepted? exit 0 yes, 4 no; also counts the stored events it would reject')
        .argument('<type>', 'the event type')
        .argument('<schema.json>', 'the JSON Schema file, or - for stdin')
        .addOption(new Option('--compat <mode>', "check under this mode instead of the type's").choices(MODES)),
      io,
      load('check'),
    ),
  );
  command.addCommand(
    setAction(new Command('list').description('the types with schemas: versions and modes'), io, load('list')),
  );
  command.addCommand(
    setAction(
      new Command('show')
        .description("print a type's schema document (the latest version, or --version n)")
        .argument('<type>', 'the event type')
        .option('--version <n>', 'the version to show')
        // `--version` arrives under this name (see routeVersionOption in src/cli.ts).
        .addOption(new Option('--schema-version <n>').hideHelp()),
      io,
      load('show'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('compat')
        .description("print or set a type's compatibility mode")
        .argument('<type>', 'the event type')
        .addArgument(new Command().createArgument('[mode]', 'the new mode').choices(MODES)),
      io,
      load('compat'),
    ),
  );
  command.addCommand(
    setAction(
      new Command('strict')
        .description('print or set the strict setting: when on, event types without a schema are refused')
        .addArgument(new Command().createArgument('[setting]', 'on or off').choices(['on', 'off'])),
      io,
      load('strict'),
    ),
  );
  return command;
}
