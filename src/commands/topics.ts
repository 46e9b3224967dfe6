import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function topicsCommand(io: CommandIo): Command {
  const command = new Command('topics').description('list the topics with their event and stream counts');
  return setAction(command, io, () => import('./topics-action.js'));
}
