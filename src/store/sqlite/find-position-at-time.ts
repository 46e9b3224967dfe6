import type { Database } from 'better-sqlite3';

/**
 * Time → position by binary search over positions. Positions are gap-free from 1 and
 * recorded time never goes backwards with position, so the rowid B-tree is the time index:
 * about 20 lookups for a million events, and no extra index on disk.
 */
export function createTimeIndex(db: Database) {
  const timeAt = db.prepare('SELECT time FROM events WHERE position = ?').pluck();
  const headPosition = db.prepare('SELECT coalesce(max(position), 0) FROM events').pluck();

  function time(position: number): number {
    return timeAt.get(position) as number;
  }

  /** The first position recorded at or after `when`, or null. */
  function findPositionAtOrAfter(when: number): number | null {
    let low = 1;
    let high = headPosition.get() as number;
    if (high === 0 || time(high) < when) return null;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (time(middle) >= when) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** The last position recorded at or before `when`, or 0. */
  function findPositionAtOrBefore(when: number): number {
    const after = findPositionAtOrAfter(when + 1);
    return after === null ? (headPosition.get() as number) : after - 1;
  }

  return { findPositionAtOrAfter, findPositionAtOrBefore };
}
