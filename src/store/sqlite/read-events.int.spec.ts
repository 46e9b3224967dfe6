import { describe, expect, it } from 'vitest';
import { readAllEvents } from '../read-all-events.js';
import type { EventFilter, EventRecord, NewEvent } from '../types.js';
import { manualClock, useTempStores } from './test-store.js';

const stores = useTempStores();

const sample: NewEvent[] = [
  { topic: 'orders', key: 'o-1', type: 'OrderPlaced', data: { customer: { id: 42 }, total: 10 } },
  { topic: 'payments', key: 'o-1', type: 'PaymentProcessed', data: { amount: 10, ok: true } },
  { topic: 'orders', key: 'o-2', type: 'OrderPlaced', data: { customer: { id: '42' }, total: 5 } },
  { topic: 'orders', key: 'o-1', type: 'OrderShipped', data: { carrier: 'dhl', lines: [{ sku: 'mug' }] } },
  { topic: 'payments', key: 'o-2', type: 'PaymentFailed', data: { amount: 5, ok: false } },
  { topic: 'orders', type: 'CatalogueChanged', data: { note: null } },
];

async function seeded() {
  const clock = manualClock(1_000_000);
  const store = stores.open({ clock: () => clock.now() });
  for (const event of sample) {
    await store.appendEvents([event]);
    clock.advance(1000);
  }
  return store;
}

async function positions(store: Awaited<ReturnType<typeof seeded>>, filter: EventFilter, pageSize = 2) {
  const out: number[] = [];
  for await (const page of readAllEvents(store, filter, { pageSize })) out.push(...page.map((e) => e.position));
  return out;
}

describe('reading events', () => {
  it.each<[string, EventFilter, number[]]>([
    ['everything', {}, [1, 2, 3, 4, 5, 6]],
    ['one topic', { topics: ['orders'] }, [1, 3, 4, 6]],
    ['two topics', { topics: ['orders', 'payments'] }, [1, 2, 3, 4, 5, 6]],
    ['an unknown topic', { topics: ['nope'] }, []],
    ['one stream', { stream: { topic: 'orders', key: 'o-1' } }, [1, 4]],
    ['the keyless stream', { stream: { topic: 'orders', key: null } }, [6]],
    ['a key across topics', { key: 'o-1' }, [1, 2, 4]],
    ['a key in a topic', { key: 'o-2', topics: ['payments'] }, [5]],
    ['a type', { types: ['OrderPlaced'] }, [1, 3]],
    ['two types', { types: ['OrderPlaced', 'PaymentFailed'] }, [1, 3, 5]],
    ['a topic and a type', { topics: ['orders'], types: ['OrderShipped'] }, [4]],
    ['a position range', { fromPosition: 2, untilPosition: 4 }, [2, 3, 4]],
    ['a stream in a range', { stream: { topic: 'orders', key: 'o-1' }, fromPosition: 2 }, [4]],
    ['data equal to a number or its text', { where: [{ path: ['customer', 'id'], value: '42' }] }, [1, 3]],
    ['data equal to a string', { where: [{ path: ['carrier'], value: 'dhl' }] }, [4]],
    ['a number only as JSON writes it', { where: [{ path: ['amount'], value: '0x5' }] }, []],
    ['data equal to true', { where: [{ path: ['ok'], value: 'true' }] }, [2]],
    ['data equal to null', { where: [{ path: ['note'], value: 'null' }] }, [6]],
    ['data in an array', { where: [{ path: ['lines', '0', 'sku'], value: 'mug' }] }, [4]],
    [
      'two data conditions',
      {
        where: [
          { path: ['amount'], value: '5' },
          { path: ['ok'], value: 'false' },
        ],
      },
      [5],
    ],
  ])('filters by %s, page by page', async (_name, filter, expected) => {
    const store = await seeded();
    expect(await positions(store, filter)).toEqual(expected);
    expect(await positions(store, filter, 100)).toEqual(expected);
  });

  it('reads backwards for the last n', async () => {
    const store = await seeded();
    const last = await store.readEvents({ topics: ['orders'] }, { direction: 'backward', limit: 2 });
    expect(last.map((e) => e.position)).toEqual([6, 4]);
    const before = await store.readEvents(
      { stream: { topic: 'orders', key: 'o-1' } },
      { direction: 'backward', after: 4, limit: 5 },
    );
    expect(before.map((e) => e.position)).toEqual([1]);
  });

  it('returns the envelope fields and the stored JSON text', async () => {
    const store = await seeded();
    const [first] = await store.readEvents({}, { direction: 'forward', limit: 1 });
    expect(first).toEqual<EventRecord>({
      position: 1,
      id: first?.id as string,
      topic: 'orders',
      key: 'o-1',
      version: 1,
      type: 'OrderPlaced',
      schemaVersion: null,
      time: 1_000_000,
      dataJson: '{"customer":{"id":42},"total":10}',
      metadataJson: '{}',
    });
  });
});

describe('time to position', () => {
  it('finds the first position at or after, and the last at or before, a time', async () => {
    const store = await seeded();
    // Event n was recorded at 1_000_000 + (n - 1) * 1000.
    expect(await store.findPositionAtOrAfter(0)).toBe(1);
    expect(await store.findPositionAtOrAfter(1_002_000)).toBe(3);
    expect(await store.findPositionAtOrAfter(1_002_001)).toBe(4);
    expect(await store.findPositionAtOrAfter(9_999_999)).toBeNull();
    expect(await store.findPositionAtOrBefore(1_002_000)).toBe(3);
    expect(await store.findPositionAtOrBefore(1_002_999)).toBe(3);
    expect(await store.findPositionAtOrBefore(999_999)).toBe(0);
    expect(await store.findPositionAtOrBefore(9_999_999)).toBe(6);
  });

  it('handles many events recorded in the same millisecond', async () => {
    const store = stores.open({ clock: () => 5000 });
    await store.appendEvents(Array.from({ length: 50 }, () => ({ topic: 't', type: 'T', data: {} })));
    expect(await store.findPositionAtOrAfter(5000)).toBe(1);
    expect(await store.findPositionAtOrBefore(5000)).toBe(50);
  });
});

describe('summaries', () => {
  it('lists topics and streams with counts', async () => {
    const store = await seeded();
    expect(await store.listTopics()).toEqual([
      { topic: 'orders', events: 4, streams: 3, lastPosition: 6 },
      { topic: 'payments', events: 2, streams: 2, lastPosition: 5 },
    ]);
    expect((await store.listStreams('orders')).map((s) => `${s.stream}@${s.version}`)).toEqual([
      'orders@1',
      'orders/o-1@2',
      'orders/o-2@1',
    ]);
    await expect(store.listStreams('nope')).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.stats()).toMatchObject({ events: 6, topics: 2, streams: 5, types: 5, firstTime: 1_000_000 });
  });
});

describe('watching commits', () => {
  it('notices a commit made through another connection', async () => {
    const folder = stores.folder();
    const reader = stores.open({}, `${folder}/w.db`);
    const writer = stores.open({}, `${folder}/w.db`);
    await reader.head();
    const noticed = new Promise<void>((resolve) => {
      const stop = reader.watchCommits(() => {
        stop();
        resolve();
      });
    });
    await writer.appendEvents([{ topic: 't', type: 'T', data: {} }]);
    await noticed;
    expect((await reader.head()).position).toBe(1);
  });
});
