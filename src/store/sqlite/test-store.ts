import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { EventStore } from '../port.js';
import { type OpenStoreOptions, openStore } from './open-sqlite-store.js';

/** A fresh folder per test, removed afterwards with every store opened in it. */
export function useTempStores() {
  const folders: string[] = [];
  const stores: EventStore[] = [];
  afterEach(() => {
    for (const store of stores.splice(0)) store.close();
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });
  return {
    folder(): string {
      const folder = mkdtempSync(join(tmpdir(), 'evlog-test-'));
      folders.push(folder);
      return folder;
    },
    open(options: OpenStoreOptions = {}, path?: string): EventStore {
      const store = openStore(path ?? join(this.folder(), 'evlog.db'), options);
      stores.push(store);
      return store;
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 22, 9, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    set(ms: number) {
      now = ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}
