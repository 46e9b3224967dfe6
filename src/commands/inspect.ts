import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function inspectCommand(io: CommandIo): Command {
  const command = new Command('inspect')
    .description('the terminal inspector: dead letters, events, projections, consumers and schemas')
    .option('--readonly', 'look only: turn off every key that changes the store (redrive, discard, rebuild)')
    .addHelpText(
      'after',
      `
Keys: 1-5 or Tab switch views, ↑/↓ or j/k move, PgUp/PgDn page, Enter opens the detail, Esc
closes it, / filters, space selects, a selects all, r redrives, d discards, p pretty/raw JSON,
f follows (Events), R rebuilds a projection, ? lists every key, q or Ctrl-C quits.

It needs a terminal: in scripts use dlq list, tail, projection status or schema list.

Examples:
  $ evlog inspect
  $ evlog inspect --readonly --db prod-copy.db`,
    );
  return setAction(command, io, () => import('./inspect-action.js'));
}
