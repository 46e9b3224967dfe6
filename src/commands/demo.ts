import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';
/** The demo's store, in the current folder. */
export const DEMO_STORE = 'evlog-demo.db';

export function demoCommand(io: CommandIo): Command {
  const command = new Command('demo')
    .description('build a sample store from fixtures/ and walk through the main job')
    .addHelpText(
      'after',
      `\nThe store is ${DEMO_STORE} in the current folder unless --db names another; it is rebuilt each time.`,
    );
  return setAction(command, io, () => import('./demo-action.js'));
}
