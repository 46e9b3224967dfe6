import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { EvlogError } from '../../errors.js';
import { readAllEvents } from '../read-all-events.js';
import type { EventRecord, NewEvent } from '../types.js';
import { manualClock, useTempStores } from './test-store.js';

const stores = useTempStores();
const placed = (key: string, data: unknown = { total: 1 }): NewEvent => ({
  topic: 'orders',
  key,
  type: 'OrderPlaced',
  data,
});

async function all(store: ReturnType<typeof stores.open>): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for await (const page of readAllEvents(store, {}, { pageSize: 7 })) out.push(...page);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<EvlogError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EvlogError);
  return error as EvlogError;
}

describe('appending', () => {
  it('gives gap-free positions from 1 and dense versions per stream', async () => {
    const store = stores.open();
    await store.appendEvents([placed('a'), placed('b'), placed('a')]);
    await store.appendEvents([placed('b'), { topic: 'orders', type: 'Tick', data: null }]);
    const events = await all(store);
    expect(events.map((e) => e.position)).toEqual([1, 2, 3, 4, 5]);
    expect(events.map((e) => `${e.key}@${e.version}`)).toEqual(['a@1', 'b@1', 'a@2', 'b@2', 'null@1']);
  });

  it('returns what it appended', async () => {
    const store = stores.open();
    const [result] = await store.appendEvents([placed('a')]);
    expect(result).toMatchObject({ position: 1, topic: 'orders', key: 'a', version: 1, duplicate: false });
    expect(result?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('checks the expected version inside the write', async () => {
    const store = stores.open();
    await store.appendEvents([{ ...placed('a'), expect: 'none' }]);
    await store.appendEvents([
      { ...placed('a'), expect: 1 },
      { ...placed('a'), expect: 2 },
    ]);
    await store.appendEvents([{ ...placed('a'), expect: 'exists' }]);
    const stale = await rejection(store.appendEvents([{ ...placed('a'), expect: 2 }]));
    expect(stale.code).toBe('conflict');
    expect(stale.message).toBe(
      'wrong expected version for orders/a: expected version 2, but the stream is at version 4',
    );
    expect((await rejection(store.appendEvents([{ ...placed('a'), expect: 'none' }]))).code).toBe('conflict');
    expect((await rejection(store.appendEvents([{ ...placed('new'), expect: 'exists' }]))).code).toBe('conflict');
    expect(await store.streamVersion('orders', 'a')).toBe(4);
  });

  it('writes nothing of a batch when one event fails, and names its index', async () => {
    const store = stores.open();
    await store.appendEvents([placed('a')]);
    const error = await rejection(store.appendEvents([placed('b'), placed('c'), { ...placed('a'), expect: 'none' }]));
    expect(error.eventIndex).toBe(2);
    expect((await all(store)).map((e) => e.key)).toEqual(['a']);
    // The next append continues the sequence without a gap.
    await store.appendEvents([placed('d')]);
    expect((await all(store)).map((e) => e.position)).toEqual([1, 2]);
    expect(await store.streamVersion('orders', 'b')).toBe(0);
  });

  it('rolls back a streamed batch when its source throws', async () => {
    const store = stores.open();
    async function* source() {
      yield [placed('a'), placed('b')];
      throw new Error('input broke');
    }
    await expect(store.appendEventStream(source())).rejects.toThrow('input broke');
    expect(await all(store)).toEqual([]);
    await store.appendEvents([placed('c')]);
    expect((await all(store))[0]?.position).toBe(1);
  });
});

describe('idempotency by id', () => {
  it('appends the same id and content once and returns the original position', async () => {
    const store = stores.open();
    await store.appendEvents([placed('x')]);
    const [first] = await store.appendEvents([{ ...placed('a'), id: 'order-a-placed', metadata: { source: 'web' } }]);
    const [again] = await store.appendEvents([
      { ...placed('a'), id: 'order-a-placed', metadata: { source: 'web' }, expect: 'none' },
    ]);
    expect(first).toMatchObject({ position: 2, duplicate: false });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await all(store)).toHaveLength(2);
  });

  it('treats a repeat inside one batch as a duplicate', async () => {
    const store = stores.open();
    const results = await store.appendEvents([
      { ...placed('a'), id: 'same' },
      { ...placed('a'), id: 'same' },
    ]);
    expect(results.map((r) => r.duplicate)).toEqual([false, true]);
    expect(await store.streamVersion('orders', 'a')).toBe(1);
  });

  it('refuses the same id with other content as a conflict', async () => {
    const store = stores.open();
    await store.appendEvents([{ ...placed('a', { total: 1 }), id: 'e-1' }]);
    const error = await rejection(store.appendEvents([{ ...placed('a', { total: 2 }), id: 'e-1' }]));
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('"e-1" is already used by position 1');
    const otherStream = await rejection(store.appendEvents([{ ...placed('b', { total: 1 }), id: 'e-1' }]));
    expect(otherStream.code).toBe('conflict');
  });
});

describe('recorded time', () => {
  it('never goes backwards with position when the clock steps back', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    await store.appendEvents([placed('a')]);
    clock.advance(-60_000);
    await store.appendEvents([placed('a')]);
    clock.advance(120_000);
    await store.appendEvents([placed('a')]);
    const times = (await all(store)).map((e) => e.time);
    expect(times).toEqual([clock.now() - 60_000, clock.now() - 60_000, clock.now()]);
  });

  it('keeps imported times, raised so they never go backwards', async () => {
    const store = stores.open();
    await store.appendEvents(
      [
        { ...placed('a'), time: 1000 },
        { ...placed('a'), time: 500 },
        { ...placed('a'), time: 2000 },
      ],
      { preserveTime: true },
    );
    expect((await all(store)).map((e) => e.time)).toEqual([1000, 1000, 2000]);
  });
});

describe('imported times', () => {
  it('refuses a time in the future, which would stamp every later event with it', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    const error = await rejection(
      store.appendEvents([{ ...placed('a'), time: clock.now() + 3_600_000 }], { preserveTime: true }),
    );
    expect(error.code).toBe('invalid');
    expect(error.message).toContain('is in the future');
    await store.appendEvents([{ ...placed('a'), time: clock.now() + 30_000 }], { preserveTime: true });
    expect(await store.head()).toMatchObject({ position: 1, time: clock.now() + 30_000 });
  });

  it('refuses a time no date can hold', async () => {
    const store = stores.open();
    const error = await rejection(store.appendEvents([{ ...placed('a'), time: 9e15 }], { preserveTime: true }));
    expect(error.message).toBe('invalid recorded time 9000000000000000');
  });
});

describe('input checks', () => {
  it.each([
    [{ topic: 'has space', type: 'T', data: 1 }, 'invalid topic'],
    [{ topic: 'a/b', type: 'T', data: 1 }, 'invalid topic'],
    [{ topic: 'orders', type: '9Lives', data: 1 }, 'invalid event type'],
    [{ topic: 'orders', type: 'T', data: 1, key: '' }, 'invalid key'],
    [{ topic: 'orders', type: 'T' }, 'needs "data"'],
    [{ topic: 'orders', type: 'T', data: 1, metadata: [] }, '"metadata" must be a JSON object'],
    [{ topic: 'orders', type: 'T', data: 1, expect: -1 }, 'invalid expected version'],
  ])('refuses %j', async (event, message) => {
    const store = stores.open();
    const error = await rejection(store.appendEvents([event as NewEvent]));
    expect(error.code).toBe('invalid');
    expect(error.message).toContain(message);
  });

  it('refuses an event over the size limit', async () => {
    const store = stores.open({ maxEventBytes: 100 });
    await store.appendEvents([placed('a', { text: 'x'.repeat(80) })]);
    const error = await rejection(store.appendEvents([placed('a', { text: 'é'.repeat(60) })]));
    expect(error.code).toBe('invalid');
    expect(error.message).toBe('event is 131 bytes, over the limit of 100 bytes');
  });
});

describe('immutability', () => {
  it('is enforced by the database, not only by the code', async () => {
    const store = stores.open();
    await store.appendEvents([placed('a')]);
    store.close();
    const db = new Database(store.path);
    try {
      expect(() => db.prepare("UPDATE events SET data = '{}'").run()).toThrow(/immutable/);
      expect(() => db.prepare('DELETE FROM events').run()).toThrow(/immutable/);
    } finally {
      db.close();
    }
  });
});

describe('ids on disk', () => {
  it('keeps every kind of id exactly as given, and finds each again for idempotency', async () => {
    const store = stores.open();
    const ids = [
      '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      '0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B',
      '~tilde',
      'order-17:placed',
      'é',
    ];
    await store.appendEvents(ids.map((id) => ({ ...placed('a'), id })));
    expect((await all(store)).map((e) => e.id)).toEqual(ids);
    const again = await store.appendEvents(ids.map((id) => ({ ...placed('a'), id })));
    expect(again.every((r) => r.duplicate)).toBe(true);
  });

  it('stores generated UUIDs in 16 bytes', async () => {
    const store = stores.open();
    const [result] = await store.appendEvents([placed('a')]);
    store.close();
    const db = new Database(store.path, { readonly: true });
    try {
      expect(db.prepare('SELECT typeof(id), length(id) FROM events').raw().get()).toEqual(['blob', 16]);
      expect((await all(stores.open({ create: false }, store.path)))[0]?.id).toBe(result?.id);
    } finally {
      db.close();
    }
  });
});
