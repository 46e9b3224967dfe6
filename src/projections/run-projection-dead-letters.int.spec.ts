import { describe, expect, it } from 'vitest';
import type { EventStore } from '../store/port.js';
import { useTempStores } from '../store/sqlite/test-store.js';
import type { NewEvent } from '../store/types.js';
import type { ProjectionDefinition } from './define-projection.js';
import { rebuildProjection, runProjection } from './run-projection.js';

const stores = useTempStores();

type Totals = { orders: number; total: number; seen: number[] };

function orders(count: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: 'orders',
    key: `order-${i + 1}`,
    type: 'OrderPlaced',
    data: { n: i + 1, customer: `cust-${(i + 1) % 3}` },
  }));
}

/**
 * Totals per customer with `onError: 'dead-letter'`. `fail(n)` decides which orders evolve
 * throws on; it mutates the state in place before throwing, as careless reducers do.
 */
function totals(fail: (n: number) => boolean | 'not-json', name = 'totals'): ProjectionDefinition<Totals> {
  return {
    name,
    version: 1,
    topics: ['orders'],
    key: (event) => event.data.customer,
    initialState: () => ({ orders: 0, total: 0, seen: [] }),
    evolve: (state, event) => {
      const n = event.data.n as number;
      const verdict = fail(n);
      if (verdict === 'not-json') return { ...state, bad: 10n } as unknown as Totals;
      state.seen.push(n);
      if (verdict) throw new Error(`order ${n} is broken`);
      return { orders: state.orders + 1, total: state.total + n, seen: state.seen };
    },
    onError: 'dead-letter',
  };
}

/** What the states must be: every order but the failing ones, folded in order. */
function expected(count: number, skip: (n: number) => boolean): Record<string, Totals> {
  const states: Record<string, Totals> = {};
  for (let n = 1; n <= count; n++) {
    if (skip(n)) continue;
    const key = `cust-${n % 3}`;
    const state = states[key] ?? { orders: 0, total: 0, seen: [] };
    states[key] = { orders: state.orders + 1, total: state.total + n, seen: [...state.seen, n] };
  }
  return states;
}

async function states(store: EventStore, name = 'totals'): Promise<Record<string, unknown>> {
  return Object.fromEntries((await store.readProjectionStates(name)).map(([key, json]) => [key, JSON.parse(json)]));
}

async function parkedPositions(store: EventStore, status?: 'parked' | 'discarded' | 'redriven'): Promise<number[]> {
  const entries = await store.listDeadLetters({ group: 'totals', status }, { limit: 1000 });
  return entries.map((e) => e.position as number);
}

describe("a projection with onError: 'dead-letter'", () => {
  it('parks each failing event and goes on, with the states as if those events were not there', async () => {
    const store = stores.open();
    await store.appendEvents(orders(50));
    const failing = (n: number) => n % 7 === 0;
    const report = await runProjection(store, totals(failing), { batchSize: 8 });
    expect(report).toMatchObject({ from: 0, to: 50 });
    expect(await states(store)).toEqual(expected(50, failing));
    expect(await parkedPositions(store)).toEqual([7, 14, 21, 28, 35, 42, 49]);
    const [first] = await store.listDeadLetters({ group: 'totals' }, { limit: 1 });
    expect(first).toMatchObject({
      source: 'projection',
      group: 'totals',
      topic: 'orders',
      type: 'OrderPlaced',
      reason: 'projection-error',
      error: 'order 7 is broken',
      attempts: 1,
      status: 'parked',
    });
    const record = await store.readProjection('totals');
    expect(record).toMatchObject({ checkpoint: 50, status: 'idle', lastError: null });
    // A second run has nothing to do and parks nothing again.
    await runProjection(store, totals(failing), { batchSize: 8 });
    expect(await store.countDeadLetters({ group: 'totals' })).toBe(7);
  });

  it('parks the event whose state is not JSON, and a key function that throws', async () => {
    const store = stores.open();
    // Order 4 is the last of its key's (cust-1) events: a state that is not JSON is found when written.
    await store.appendEvents(orders(6));
    const definition: ProjectionDefinition<Totals> = {
      ...totals((n) => (n === 4 ? 'not-json' : false)),
      key: (event) => {
        if (event.data.n === 6) throw new Error('no customer');
        return event.data.customer;
      },
    };
    await runProjection(store, definition);
    expect(await parkedPositions(store)).toEqual([4, 6]);
    expect(await states(store)).toEqual(expected(6, (n) => n === 4 || n === 6));
  });

  it('does not park again on a rebuild the events parked or discarded before', async () => {
    const store = stores.open();
    await store.appendEvents(orders(30));
    const failing = (n: number) => n % 10 === 0;
    await runProjection(store, totals(failing), { batchSize: 4 });
    const entries = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    await store.discardDeadLetters([entries[0]?.id as number]);
    await rebuildProjection(store, totals(failing), { batchSize: 4 });
    expect(await parkedPositions(store, 'parked')).toEqual([20, 30]);
    expect(await parkedPositions(store, 'discarded')).toEqual([10]);
    expect(await states(store)).toEqual(expected(30, failing));
    expect(await store.readProjection('totals')).toMatchObject({ checkpoint: 30, status: 'idle' });
  });

  it('parks nothing when the failures are gone: a rebuild with the reducer fixed applies them in order', async () => {
    const store = stores.open();
    await store.appendEvents(orders(12));
    await runProjection(
      store,
      totals((n) => n === 5),
    );
    await rebuildProjection(
      store,
      totals(() => false),
    );
    expect(await states(store)).toEqual(expected(12, () => false));
    expect(await store.countDeadLetters({ group: 'totals' })).toBe(1);
  });
});
