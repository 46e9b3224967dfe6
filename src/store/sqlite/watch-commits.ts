import { type FSWatcher, watch } from 'node:fs';
import type { Database } from 'better-sqlite3';

export interface WatchOptions {
  /** Poll interval when the WAL file cannot be watched (or EVLOG_WATCH=poll). */
  pollMs: number;
  /** Watch the WAL file; false polls only. */
  useFileWatch: boolean;
}

/** A safety poll while the file watch works, in case an event is dropped (network file systems). */
const SAFETY_POLL_MS = 1000;

/**
 * Notices other processes' commits: the WAL file changes on every commit, and
 * `PRAGMA data_version` tells for sure whether another connection committed.
 */
export function watchCommits(db: Database, path: string, onChange: () => void, options: WatchOptions): () => void {
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let last = dataVersion.get() as number;
  const check = () => {
    const current = dataVersion.get() as number;
    if (current !== last) {
      last = current;
      onChange();
    }
  };
  let watcher: FSWatcher | undefined;
  if (options.useFileWatch) {
    try {
      watcher = watch(`${path}-wal`, { persistent: true }, check);
      watcher.on('error', () => {
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      watcher = undefined;
    }
  }
  const timer = setInterval(check, watcher ? SAFETY_POLL_MS : options.pollMs);
  return () => {
    watcher?.close();
    clearInterval(timer);
  };
}
