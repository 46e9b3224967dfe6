import type { Writable } from 'node:stream';
import stringWidth from 'string-width';
import { createLineWriter } from './line-writer.js';

const GAP = '  ';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Display width; plain ASCII (nearly every cell) skips string-width's grapheme segmentation. */
function displayWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

/**
 * Prints rows as aligned columns without borders (like kubectl), streaming line by line so a
 * topic with 100k streams prints at once. string-width measures wide and combining characters
 * (keys are free text) as a terminal shows them.
 */
export async function printTable(stream: Writable, head: string[], rows: (string | number)[][]): Promise<void> {
  const cells = rows.map((row) => row.map(String));
  const widths = head.map((title) => displayWidth(title));
  for (const row of cells) {
    for (let column = 0; column < row.length; column++) {
      const width = displayWidth(row[column] as string);
      if (width > (widths[column] ?? 0)) widths[column] = width;
    }
  }
  const format = (row: string[]) =>
    row
      .map((cell, column) =>
        column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - displayWidth(cell)),
      )
      .join(GAP);
  const writer = createLineWriter(stream);
  try {
    await writer.line(format(head));
    for (const row of cells) await writer.line(format(row));
    await writer.flush();
  } finally {
    writer.dispose();
  }
}
