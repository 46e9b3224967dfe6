import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { printTable } from './table.js';

async function render(head: string[], rows: (string | number)[][]): Promise<string> {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => {
    text += String(chunk);
  });
  await printTable(stream, head, rows);
  return text;
}

describe('tables', () => {
  it('align columns by display width, without trailing spaces', async () => {
    const text = await render(
      ['STREAM', 'VERSION'],
      [
        ['orders/order-1', 12],
        ['orders/注文-2', 3],
      ],
    );
    expect(text).toBe('STREAM          VERSION\norders/order-1  12\norders/注文-2   3\n');
  });
});
