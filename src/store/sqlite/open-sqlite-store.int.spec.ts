import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EvlogError } from '../../errors.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import { openStore } from './open-sqlite-store.js';
import { useTempStores } from './test-store.js';

const stores = useTempStores();

function openError(path: string, create: boolean): EvlogError {
  try {
    openStore(path, { create }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(EvlogError);
    return error as EvlogError;
  }
  throw new Error('expected openStore to fail');
}

describe('opening a store', () => {
  it('for reading, fails on a missing file and creates nothing', () => {
    const path = join(stores.folder(), 'missing.db');
    const error = openError(path, false);
    expect(error.code).toBe('not_found');
    expect(error.hint).toContain('evlog init');
    expect(existsSync(path)).toBe(false);
  });

  it('for writing, creates the file in WAL mode at the latest schema', async () => {
    const store = stores.open();
    await store.appendEvents([{ topic: 't', type: 'T', data: {} }]);
    store.close();
    const db = new Database(store.path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_SCHEMA_VERSION);
    expect(db.pragma('application_id', { simple: true })).toBe(0x45564c47);
    db.close();
  });

  it('refuses a file that is not SQLite and leaves it untouched', () => {
    const path = join(stores.folder(), 'notes.txt');
    writeFileSync(path, 'shopping list: milk, eggs\n'.repeat(200));
    const before = readFileSync(path);
    const error = openError(path, true);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe(`${path} is not an evlog store; it was left untouched`);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('refuses another application’s SQLite database and leaves it untouched', () => {
    const path = join(stores.folder(), 'other.db');
    const db = new Database(path);
    db.exec("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada')");
    db.close();
    const before = readFileSync(path);
    const error = openError(path, true);
    expect(error.code).toBe('not_found');
    expect(error.message).toBe(`${path} is not an evlog store; it was left untouched`);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('refuses a store written by a newer evlog', () => {
    const store = stores.open();
    store.close();
    const db = new Database(store.path);
    db.pragma('user_version = 99');
    db.close();
    const error = openError(store.path, false);
    expect(error.code).toBe('failure');
    expect(error.message).toContain(`newer evlog (store schema 99; this evlog knows up to ${LATEST_SCHEMA_VERSION})`);
  });

  it('for reading, refuses an empty file instead of initialising it', () => {
    const path = join(stores.folder(), 'empty.db');
    writeFileSync(path, '');
    expect(openError(path, false).code).toBe('not_found');
    expect(readFileSync(path).length).toBe(0);
  });

  it('opens an existing store again with its events', async () => {
    const path = join(stores.folder(), 'again.db');
    const first = stores.open({}, path);
    await first.appendEvents([{ topic: 't', key: 'k', type: 'T', data: { n: 1 } }]);
    first.close();
    const second = stores.open({ create: false }, path);
    expect(await second.head()).toMatchObject({ position: 1 });
    expect(await second.streamVersion('t', 'k')).toBe(1);
  });
});
