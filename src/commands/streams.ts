import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function streamsCommand(io: CommandIo): Command {
  const command = new Command('streams')
    .description("list a topic's streams with their versions")
    .argument('<topic>', 'the topic');
  return setAction(command, io, () => import('./streams-action.js'));
}
