import type { EventStore } from '../store/index.js';

/** Turns the store's commit notifications into something a loop can await, with a timeout. */
export function waitForCommit(store: EventStore) {
  let pending = false;
  let wake: (() => void) | undefined;
  const stop = store.watchCommits(() => {
    pending = true;
    wake?.();
  });
  return {
    /** Resolves at the next commit (at once if one came since the last call), or after `timeoutMs`. */
    next(timeoutMs?: number): Promise<void> {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
        function done() {
          if (timer) clearTimeout(timer);
          wake = undefined;
          pending = false;
          resolve();
        }
        wake = done;
      });
    },
    stop,
  };
}
