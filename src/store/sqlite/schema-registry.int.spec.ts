import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EvlogError } from '../../errors.js';
import { LATEST_SCHEMA_VERSION } from './migrations.js';
import { manualClock, useTempStores } from './test-store.js';

const V1 = JSON.stringify({ type: 'object', properties: { total: { type: 'number' } } });
const V2 = JSON.stringify({ type: 'object', properties: { total: { type: 'number' } }, required: ['total'] });

describe('the schema registry in the store', () => {
  const stores = useTempStores();

  it('numbers versions from 1 per type, with their registration time', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    expect(await store.registerSchema('OrderPlaced', V1, { expectedLatestVersion: 0 })).toEqual({
      version: 1,
      created: true,
    });
    clock.advance(1000);
    expect(await store.registerSchema('OrderPlaced', V2, { expectedLatestVersion: 1 })).toEqual({
      version: 2,
      created: true,
    });
    expect(await store.registerSchema('PaymentFailed', V1, { expectedLatestVersion: 0 })).toEqual({
      version: 1,
      created: true,
    });
    const versions = await store.readSchemas('OrderPlaced');
    expect(versions.map((s) => [s.version, s.documentJson, s.registeredAt])).toEqual([
      [1, V1, clock.now() - 1000],
      [2, V2, clock.now()],
    ]);
    expect((await store.readSchema('OrderPlaced'))?.version).toBe(2);
    expect((await store.readSchema('OrderPlaced', 1))?.documentJson).toBe(V1);
    expect(await store.readSchema('OrderPlaced', 3)).toBeNull();
    expect(await store.readSchema('Nope')).toBeNull();
    expect(await store.latestSchemaVersions()).toEqual(
      new Map([
        ['OrderPlaced', 2],
        ['PaymentFailed', 1],
      ]),
    );
  });

  it('treats the latest document again as a no-op, and a stale expectation as a conflict', async () => {
    const store = stores.open();
    await store.registerSchema('T', V1, { expectedLatestVersion: 0 });
    expect(await store.registerSchema('T', V1, { expectedLatestVersion: 0 })).toEqual({ version: 1, created: false });
    const error = await store.registerSchema('T', V2, { expectedLatestVersion: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvlogError);
    expect((error as EvlogError).code).toBe('conflict');
    expect((await store.readSchemas('T')).length).toBe(1);
  });

  it('keeps a compatibility mode per type, backward by default', async () => {
    const store = stores.open();
    expect(await store.compatibilityMode('T')).toBe('backward');
    await store.registerSchema('T', V1, { expectedLatestVersion: 0, compat: 'full-transitive' });
    expect(await store.compatibilityMode('T')).toBe('full-transitive');
    await store.setCompatibilityMode('T', 'none');
    await store.setCompatibilityMode('Later', 'forward');
    // The list is of schemas: a mode set ahead of a type's first schema is kept, not listed.
    expect(await store.listSchemaTypes()).toEqual([{ type: 'T', latestVersion: 1, versions: [1], compat: 'none' }]);
    expect(await store.compatibilityMode('Later')).toBe('forward');
  });

  it('keeps settings, and removes one set to null', async () => {
    const store = stores.open();
    expect(await store.readSetting('strict')).toBeNull();
    await store.writeSetting('strict', 'on');
    expect(await store.readSetting('strict')).toBe('on');
    await store.writeSetting('strict', null);
    expect(await store.readSetting('strict')).toBeNull();
  });

  it('refuses to change a registered version, whoever asks', async () => {
    const store = stores.open();
    await store.registerSchema('T', V1, { expectedLatestVersion: 0 });
    store.close();
    const db = new Database(store.path);
    expect(() => db.prepare("UPDATE schemas SET document = '{}'").run()).toThrow(/immutable/);
    expect(() => db.prepare('DELETE FROM schemas').run()).toThrow(/immutable/);
    db.close();
  });

  it('brings a store of schema 1 up to date, keeping its events', async () => {
    const store = stores.open();
    await store.appendEvents([{ topic: 't', type: 'T', data: { n: 1 } }]);
    store.close();
    const db = new Database(store.path);
    db.exec(
      'DROP TRIGGER schemas_are_immutable_update; DROP TRIGGER schemas_are_immutable_delete; DROP TABLE schemas; DROP TABLE schema_compat; DROP TABLE projections; DROP TABLE projection_states; DROP TABLE projection_snapshots; DROP TABLE consumer_groups; DROP TABLE dead_letters; DROP TABLE dead_letter_history',
    );
    db.pragma('user_version = 1');
    db.close();
    const reopened = stores.open({}, store.path);
    expect((await reopened.stats()).schemaVersion).toBe(LATEST_SCHEMA_VERSION);
    expect((await reopened.head()).position).toBe(1);
    expect(await reopened.registerSchema('T', V1, { expectedLatestVersion: 0 })).toEqual({ version: 1, created: true });
  });
});
