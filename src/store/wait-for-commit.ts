import type { EventStore } from './port.js';

/** setTimeout's limit (about 24.8 days); a longer wait is made of several. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Turns the store's commit notifications into something a loop can await, with a timeout. */
export function waitForCommit(store: EventStore) {
  let pending = false;
  let wake: (() => void) | undefined;
  const stop = store.watchCommits(() => {
    pending = true;
    wake?.();
  });
  return {
    /**
     * Resolves at the next commit (at once if one came since the last call), or after
     * `timeoutMs` (capped at about 24.8 days: callers loop and check their own deadline).
     */
    next(timeoutMs?: number): Promise<void> {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(done, Math.min(timeoutMs, MAX_TIMEOUT_MS));
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
