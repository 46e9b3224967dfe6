import type { Key } from 'ink';

/** How far a key moves a cursor: ↑/↓ or k/j one row, PgUp/PgDn a page, Home/End all the way. */
export function movement(input: string, key: Key, page: number): number | 'start' | 'end' | null {
  if (key.upArrow || (input === 'k' && !key.ctrl)) return -1;
  if (key.downArrow || (input === 'j' && !key.ctrl)) return 1;
  if (key.pageUp) return -Math.max(1, page);
  if (key.pageDown) return Math.max(1, page);
  if (key.home) return 'start';
  if (key.end) return 'end';
  return null;
}
