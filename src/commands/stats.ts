import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function statsCommand(io: CommandIo): Command {
  const command = new Command('stats').description('counts, time span and size of the store');
  return setAction(command, io, () => import('./stats-action.js'));
}
