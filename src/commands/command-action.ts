import type { Command } from 'commander';
import type { CommandContext, CommandIo, GlobalOptions } from './context.js';

/** What a command's action module exports: the work, given the context, arguments and options. */
export type CommandRun = (context: CommandContext, args: unknown[], options: Record<string, unknown>) => Promise<void>;

/**
 * Wires a command to its action module, loaded only when the command runs: `--help`,
 * `--version` and every other command never pay for its imports (start-up time is part
 * of the product). The action gets the context (I/O and global options), the positional
 * arguments and its own options.
 */
export function setAction(command: Command, io: CommandIo, load: () => Promise<{ run: CommandRun }>): Command {
  return command.action(async (...received: unknown[]) => {
    const self = received[received.length - 1] as Command;
    const args = received.slice(0, -2);
    const globals = self.optsWithGlobals() as GlobalOptions;
    const { run } = await load();
    await run({ io, globals }, args, self.opts());
  });
}

/** For repeatable options: `--type A --type B` → ['A', 'B']. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
