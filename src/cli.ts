import { Command, CommanderError } from 'commander';
import packageJson from '../package.json' with { type: 'json' };
import { appendCommand } from './commands/append.js';
import { consumeCommand } from './commands/consume.js';
import type { CommandIo } from './commands/context.js';
import { demoCommand } from './commands/demo.js';
import { dlqCommand } from './commands/dlq.js';
import { exportCommand } from './commands/export.js';
import { importCommand } from './commands/import.js';
import { initCommand } from './commands/init.js';
import { inspectCommand } from './commands/inspect.js';
import { projectionCommand } from './commands/projection.js';
import { replayCommand } from './commands/replay.js';
import { schemaCommand } from './commands/schema.js';
import { statsCommand } from './commands/stats.js';
import { streamsCommand } from './commands/streams.js';
import { tailCommand } from './commands/tail.js';
import { topicsCommand } from './commands/topics.js';
import { EvlogError } from './errors.js';
import { OutputClosedError } from './output/output-closed-error.js';

/** Builds the program: global options and every command. The only place that wires the CLI. */
export function buildProgram(io: CommandIo): Command {
  const program = new Command('evlog')
    .description('a local event log: append, tail, replay and inspect events in one SQLite file')
    .version(packageJson.version, '--version', 'print the evlog version')
    .option('--db <path>', 'the store file (default: $EVLOG_DB, then db in the config, then ./evlog.db)')
    .option('--config <file>', 'the config file (default: evlog.config.mjs, .js or .json here or in a folder above)')
    .option('--json', 'machine output: one JSON object per line')
    .option('--no-color', 'no colours (also: NO_COLOR=1)')
    .option('-q, --quiet', 'print only results and errors')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage, 3 invalid input, 4 conflict, 5 not found.

Start with:
  $ evlog demo                     build a sample store and walk through the main job
  $ evlog append orders '{"total":12.5}' -t OrderPlaced -k order-17
  $ evlog tail -f`,
    );
  for (const command of [
    demoCommand(io),
    initCommand(io),
    appendCommand(io),
    tailCommand(io),
    topicsCommand(io),
    streamsCommand(io),
    statsCommand(io),
    importCommand(io),
    exportCommand(io),
    schemaCommand(io),
    replayCommand(io),
    projectionCommand(io),
    consumeCommand(io),
    dlqCommand(io),
    inspectCommand(io),
  ]) {
    program.addCommand(command);
  }
  configureRecursively(program, io);
  return program;
}

/** Errors become exceptions (handled in `main`) and help goes to stdout, in every subcommand. */
function configureRecursively(command: Command, io: CommandIo): void {
  command
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => {},
    })
    .showSuggestionAfterError(true);
  for (const sub of command.commands) configureRecursively(sub, io);
}

/**
 * Runs the CLI on `argv` (without the node and script paths) and returns the exit code.
 * Every error is turned into one `evlog: …` line here, and nowhere else.
 */
export async function main(argv: string[], io: CommandIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(routeVersionOption(argv), { from: 'user' });
    return 0;
  } catch (error) {
    // The command the user meant, down to a subcommand (`dlq list`), for the help hint.
    const command = program.commands.find((sub) => argv.includes(sub.name()));
    const subcommand = command?.commands.find((sub) => argv.includes(sub.name()));
    const name = command && (subcommand ? `${command.name()} ${subcommand.name()}` : command.name());
    return reportError(error, io, argv.includes('--json'), name);
  }
}

/**
 * `evlog schema show <type> --version 2` means the schema version, but commander gives a
 * `--version` anywhere on the line to the program (print evlog's version). Hand it to the
 * subcommand under the name it reads.
 */
function routeVersionOption(argv: string[]): string[] {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  if (words[0] !== 'schema' || words[1] !== 'show') return argv;
  return argv.map((arg) =>
    arg === '--version' ? '--schema-version' : arg.startsWith('--version=') ? `--schema-version=${arg.slice(10)}` : arg,
  );
}

function reportError(error: unknown, io: CommandIo, json: boolean, commandName?: string): number {
  if (error instanceof OutputClosedError) return 0;
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return 0;
    if (error.code === 'commander.help' || error.code === 'commander.helpDisplayed') return 2;
    // Commander puts its suggestion on a line of its own: keep the error to one line.
    const message = error.message.replace(/^error: /, '').replace(/\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)');
    const help = commandName ? `evlog ${commandName} --help` : 'evlog --help';
    return writeError(new EvlogError('usage', message, { hint: `see \`${help}\`` }), io, json);
  }
  if (error instanceof EvlogError) return writeError(error, io, json);
  const unexpected = new EvlogError(
    'failure',
    `unexpected error: ${error instanceof Error ? error.message : String(error)}`,
  );
  if (io.env.EVLOG_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return writeError(unexpected, io, json);
}

function writeError(error: EvlogError, io: CommandIo, json: boolean): number {
  let text = `evlog: ${error.message}\n`;
  for (const detail of error.details) text += `  ${detail}\n`;
  if (error.hint) text += `hint: ${error.hint}\n`;
  if (json) text += `${JSON.stringify(error.toJSON())}\n`;
  io.stderr.write(text);
  return error.exitCode;
}

/**
 * The real process's I/O. When the reader of stdout goes away (`evlog … | head`), the
 * command's work is done or pointless: exit quietly instead of printing an EPIPE stack.
 */
export function processIo(): CommandIo {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    // A full disk or a broken device: say so in one line, as for any other failure.
    process.stderr.write(`evlog: cannot write the output: ${error.message}\n`);
    process.exit(1);
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
  };
}
