import { describe, expect, it } from 'vitest';
import { EvlogError } from '../errors.js';
import { readAllEvents } from '../store/read-all-events.js';
import { useTempStores } from '../store/sqlite/test-store.js';
import { checkSchemaChange, registerSchema } from './register-schema.js';
import { createSchemaGuard, STRICT_SETTING, withSchemaValidation } from './schema-guard.js';

const v1 = { type: 'object', properties: { total: { type: 'number' } }, required: ['total'] };
const v2 = { ...v1, properties: { total: { type: 'number' }, note: { type: 'string' } }, additionalProperties: false };

async function failure(promise: Promise<unknown>): Promise<EvlogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof EvlogError)) throw new Error(`expected an EvlogError, got ${String(error)}`);
  return error;
}

describe('validation on append, for library users and the CLI alike', () => {
  const stores = useTempStores();

  it('stamps events with the latest version, or the one asked for, and checks against it', async () => {
    const store = withSchemaValidation(stores.open());
    await registerSchema(store, 'OrderPlaced', v1, { compat: 'none' });
    await registerSchema(store, 'OrderPlaced', { type: 'object', required: ['amount'] });
    await store.appendEvents([
      { topic: 'orders', type: 'OrderPlaced', data: { amount: 1 } },
      { topic: 'orders', type: 'OrderPlaced', data: { total: 1 }, schemaVersion: 1 },
      { topic: 'orders', type: 'Untyped', data: 'anything' },
    ]);
    const stored = [];
    for await (const page of readAllEvents(store, {})) stored.push(...page);
    expect(stored.map((e) => [e.type, e.schemaVersion])).toEqual([
      ['OrderPlaced', 2],
      ['OrderPlaced', 1],
      ['Untyped', null],
    ]);
  });

  it('refuses the whole batch, naming the event, each violation, path and value', async () => {
    const store = withSchemaValidation(stores.open());
    await registerSchema(store, 'OrderPlaced', v1);
    const error = await failure(
      store.appendEvents([
        { topic: 'orders', type: 'OrderPlaced', data: { total: 1 } },
        { topic: 'orders', type: 'OrderPlaced', data: { total: 'twelve' } },
      ]),
    );
    expect(error.code).toBe('invalid');
    expect(error.exitCode).toBe(3);
    expect(error.eventIndex).toBe(1);
    expect(error.message).toBe('OrderPlaced v1: the data breaks its schema (1 violation)');
    expect(error.details).toEqual(['$.total: must be number (type), got "twelve"']);
    expect((await store.head()).position).toBe(0);
  });

  it('refuses a schema version that does not exist', async () => {
    const store = withSchemaValidation(stores.open());
    await registerSchema(store, 'OrderPlaced', v1);
    const error = await failure(
      store.appendEvents([{ topic: 'orders', type: 'OrderPlaced', data: { total: 1 }, schemaVersion: 3 }]),
    );
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('OrderPlaced has no schema version 3 (latest: 1)');
  });

  it('passes events of types without a schema through as they are, without a promise', async () => {
    const store = stores.open();
    const event = { topic: 't', type: 'Plain', data: { n: 1 } };
    expect((await createSchemaGuard(store)).check(event)).toBe(event);
    await registerSchema(store, 'OrderPlaced', v1);
    expect((await createSchemaGuard(store)).check(event)).toBe(event);
  });

  it('in a strict store, refuses a type without a schema with a hint to register one', async () => {
    const store = stores.open();
    await store.writeSetting(STRICT_SETTING, 'on');
    const guard = await createSchemaGuard(store);
    expect(() => guard.check({ topic: 't', type: 'Unregistered', data: {} })).toThrow(
      'event type "Unregistered" has no schema, and this store is strict',
    );
    await store.writeSetting(STRICT_SETTING, null);
    const relaxed = await createSchemaGuard(store);
    expect(relaxed.check({ topic: 't', type: 'Unregistered', data: {} })).toEqual({
      topic: 't',
      type: 'Unregistered',
      data: {},
    });
  });
});

describe('registering against stored events', () => {
  const stores = useTempStores();

  it('reports how many stored events a schema rejects, with the first positions', async () => {
    const store = stores.open();
    await store.appendEvents([
      { topic: 'o', type: 'OrderPlaced', data: { total: 1 } },
      { topic: 'o', type: 'Other', data: {} },
      { topic: 'o', type: 'OrderPlaced', data: { total: 'x' } },
      { topic: 'o', type: 'OrderPlaced', data: {} },
    ]);
    const report = await checkSchemaChange(store, 'OrderPlaced', v1);
    expect(report.events).toEqual({
      checked: 3,
      rejected: 2,
      first: [
        { position: 3, violations: ['$.total: must be number (type), got "x"'] },
        { position: 4, violations: ['$.total: is required (required)'] },
      ],
    });
    expect(report.accepted).toBe(false);
    const error = await failure(registerSchema(store, 'OrderPlaced', v1));
    expect(error.code).toBe('conflict');
    expect(error.message).toBe('OrderPlaced v1 rejects 2 stored events');
    expect(await store.readSchemas('OrderPlaced')).toEqual([]);
    // Under `none`, stored events are reported but do not block.
    expect((await registerSchema(store, 'OrderPlaced', v1, { compat: 'none' })).version).toBe(1);
  });

  it('refuses an incompatible version with one line per reason, and registers nothing', async () => {
    const store = stores.open();
    await registerSchema(store, 'OrderPlaced', v1);
    const breaking = { type: 'object', properties: { total: { type: 'string' }, currency: { type: 'string' } } };
    const error = await failure(registerSchema(store, 'OrderPlaced', breaking));
    expect(error.exitCode).toBe(4);
    expect(error.details).toEqual([
      'OrderPlaced v2: property "total": type changed from "number" to "string" (backward)',
      'OrderPlaced v2: property "currency" added to an open content model (backward)',
    ]);
    expect((await store.readSchemas('OrderPlaced')).length).toBe(1);
    // Closing the open model is refused too (old data may hold other properties)…
    expect((await failure(registerSchema(store, 'OrderPlaced', v2))).details).toEqual([
      'OrderPlaced v2: property "note" added to an open content model (backward)',
      'OrderPlaced v2: the data: additionalProperties set to false (the content model was closed) (backward)',
    ]);
    // …while making total optional is backward compatible; registering it again is a no-op.
    const optionalTotal = { type: 'object', properties: { total: { type: 'number' } } };
    expect((await registerSchema(store, 'OrderPlaced', optionalTotal)).version).toBe(2);
    expect(await registerSchema(store, 'OrderPlaced', optionalTotal)).toMatchObject({ version: 2, created: false });
  });
});
