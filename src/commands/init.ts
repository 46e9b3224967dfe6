import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function initCommand(io: CommandIo): Command {
  const command = new Command('init')
    .description('create an empty store (or check an existing one)')
    .addHelpText('after', '\nExamples:\n  $ evlog init\n  $ evlog init --db /var/lib/shop/events.db');
  return setAction(command, io, () => import('./init-action.js'));
}
