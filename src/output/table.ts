import type { Writable } from 'node:stream';

/**
 * Prints rows as aligned columns without borders (like kubectl), through cli-table3, which
 * measures wide and coloured text correctly. Loaded only by the commands that print tables.
 */
export async function printTable(stream: Writable, head: string[], rows: (string | number)[][]): Promise<void> {
  const { default: Table } = await import('cli-table3');
  const blank = {
    top: '',
    'top-mid': '',
    'top-left': '',
    'top-right': '',
    bottom: '',
    'bottom-mid': '',
    'bottom-left': '',
    'bottom-right': '',
    left: '',
    'left-mid': '',
    mid: '',
    'mid-mid': '',
    right: '',
    'right-mid': '',
    middle: '  ',
  };
  const table = new Table({
    head,
    chars: blank,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  table.push(...rows);
  stream.write(
    `${table
      .toString()
      .split('\n')
      .map((line) => line.trimEnd())
      .join('\n')}\n`,
  );
}
