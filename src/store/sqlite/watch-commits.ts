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
 * The WAL file changes while a commit's frames are written, a moment before the commit is
 * visible through the shared-memory index (whose writes no file watch sees). So a change of
 * the WAL file is followed by a few checks over the next 50 ms.
 */
const RECHECK_AFTER_WAL_CHANGE_MS = [0, 2, 5, 10, 25, 50];

/**
 * Notices other processes' commits: the WAL file changes on every commit, and
 * `PRAGMA data_version` tells for sure whether another connection committed.
 */
export function watchCommits(db: Database, path: string, onChange: () => void, options: WatchOptions): () => void {
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let last = dataVersion.get() as number;
  let stopped = false;
  const check = () => {
    // A timer may still fire after stop() or after the store was closed.
    if (stopped || !db.open) return;
    const current = dataVersion.get() as number;
    if (current !== last) {
      last = current;
      onChange();
    }
  };
  let rechecks: NodeJS.Timeout[] = [];
  const clearRechecks = () => {
    for (const timer of rechecks) clearTimeout(timer);
    rechecks = [];
  };
  const onWalChange = () => {
    clearRechecks();
    check();
    if (!stopped) rechecks = RECHECK_AFTER_WAL_CHANGE_MS.slice(1).map((ms) => setTimeout(check, ms));
  };
  let watcher: FSWatcher | undefined;
  if (options.useFileWatch) {
    try {
      watcher = watch(`${path}-wal`, { persistent: true }, onWalChange);
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
    stopped = true;
    watcher?.close();
    clearInterval(timer);
    clearRechecks();
  };
}
