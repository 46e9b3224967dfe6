import { describe, expect, it } from 'vitest';
import { EvlogError } from '../errors.js';
import type { EventStore } from '../store/port.js';
import { useTempStores } from '../store/sqlite/test-store.js';
import type { EventRecord, NewEvent } from '../store/types.js';
import type { ProjectionDefinition } from './define-projection.js';
import { describeProjection } from './projection-status.js';
import { replayProjection } from './replay-projection.js';
import { createProjectionRunner, rebuildProjection, runProjection } from './run-projection.js';

const stores = useTempStores();

type Totals = { orders: number; total: number };

/** Orders and total per customer; `failOn` makes evolve throw on that order id. */
function totals(overrides: Partial<ProjectionDefinition<Totals>> = {}, failOn?: string): ProjectionDefinition<Totals> {
  return {
    name: 'totals',
    version: 1,
    topics: ['orders'],
    key: (event) => event.data.customer,
    initialState: () => ({ orders: 0, total: 0 }),
    evolve: (state, event) => {
      if (event.data.orderId === failOn) throw new Error(`cannot total ${failOn}`);
      return { orders: state.orders + 1, total: state.total + event.data.total };
    },
    ...overrides,
  };
}

function orders(count: number, start = 1): NewEvent[] {
  const events: NewEvent[] = [];
  for (let i = start; i < start + count; i++) {
    events.push({
      topic: 'orders',
      key: `order-${i}`,
      type: 'OrderPlaced',
      data: { orderId: `order-${i}`, customer: `cust-${i % 3}`, total: i },
    });
    events.push({ topic: 'payments', key: `order-${i}`, type: 'PaymentProcessed', data: { amount: i } });
  }
  return events;
}

/** The states as `projection get` reads them: the generation readers see. */
async function storedStates(store: EventStore, name = 'totals'): Promise<Record<string, unknown>> {
  const rows = await store.readProjectionStates(name);
  return Object.fromEntries(rows.map(([key, json]) => [key, JSON.parse(json)]));
}

async function fromScratch(store: EventStore, definition: ProjectionDefinition, untilPosition?: number) {
  const head = (await store.head()).position;
  return (await replayProjection(store, definition, { untilPosition: untilPosition ?? head, useSnapshots: false }))
    .state;
}

describe('running a projection', () => {
  it('catches up in batches to the head, and later resumes from its checkpoint', async () => {
    const store = stores.open();
    await store.appendEvents(orders(20));
    const definition = totals();
    const first = await runProjection(store, definition, { batchSize: 3 });
    expect(first).toEqual({ name: 'totals', from: 0, to: 40, events: 20 });
    await store.appendEvents(orders(5, 21));
    const second = await runProjection(store, definition, { batchSize: 3 });
    expect(second).toEqual({ name: 'totals', from: 40, to: 50, events: 5 });
    expect(await storedStates(store)).toEqual(await fromScratch(store, definition));
    expect((await store.readProjection('totals'))?.status).toBe('idle');
  });

  it('moves the checkpoint past events of other topics', async () => {
    const store = stores.open();
    await store.appendEvents([{ topic: 'payments', type: 'PaymentProcessed', data: {} }]);
    await runProjection(store, totals());
    expect((await store.readProjection('totals'))?.checkpoint).toBe(1);
  });

  it('keeps following with one runner, without applying an event twice', async () => {
    const store = stores.open();
    const definition = totals();
    const runner = await createProjectionRunner(store, definition, { batchSize: 4 });
    for (let round = 0; round < 4; round++) {
      await store.appendEvents(orders(5, round * 5 + 1));
      await runner.catchUp();
    }
    expect(await storedStates(store)).toEqual(await fromScratch(store, definition));
  });

  it('refuses a batch from a runner whose checkpoint another process moved (no event applied twice)', async () => {
    const store = stores.open();
    await store.appendEvents(orders(3));
    const slow = await createProjectionRunner(store, totals());
    await runProjection(store, totals());
    await store.appendEvents(orders(1, 4));
    await expect(slow.catchUp()).rejects.toMatchObject({ code: 'conflict' });
    expect(await storedStates(store)).toEqual({
      'cust-0': { orders: 1, total: 3 },
      'cust-1': { orders: 1, total: 1 },
      'cust-2': { orders: 1, total: 2 },
    });
  });

  it('marks a throwing reducer failed with the error and position, and stops before that event', async () => {
    const store = stores.open();
    await store.appendEvents(orders(6));
    const error = await runProjection(store, totals({}, 'order-4'), { batchSize: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EvlogError);
    expect((error as EvlogError).message).toBe(
      'projection "totals" failed on the event at position 7 (OrderPlaced): cannot total order-4',
    );
    const record = await store.readProjection('totals');
    expect(record).toMatchObject({
      status: 'failed',
      checkpoint: 6,
      lastError: 'cannot total order-4',
      errorPosition: 7,
    });
    expect(await storedStates(store)).toEqual(await fromScratch(store, totals(), 6));
    // Fixed, it resumes at the failing event.
    const report = await runProjection(store, totals());
    expect(report).toMatchObject({ from: 6, to: 12, events: 3 });
    expect(await storedStates(store)).toEqual(await fromScratch(store, totals()));
    expect(await store.readProjection('totals')).toMatchObject({ status: 'idle', lastError: null });
  });

  it('reports a reducer that mutates state in place and then throws without keeping the half-done change', async () => {
    const store = stores.open();
    await store.appendEvents(orders(4));
    const mutating = totals({
      evolve: (state, event) => {
        state.orders++;
        if (event.data.orderId === 'order-4') throw new Error('boom');
        state.total += event.data.total;
        return state;
      },
    });
    await runProjection(store, mutating, { batchSize: 2 }).catch(() => {});
    expect(await storedStates(store)).toEqual(await fromScratch(store, totals(), 6));
  });

  it('reports the first failing event in log order when key() throws on a later event than evolve', async () => {
    const store = stores.open();
    await store.appendEvents(orders(4).filter((event) => event.topic === 'orders'));
    const definition = totals({
      key: (event) => {
        if (event.data.orderId === 'order-3') throw new Error('key boom');
        return event.data.customer;
      },
      evolve: (state, event) => {
        if (event.data.orderId === 'order-2') throw new Error('evolve boom');
        return { orders: state.orders + 1, total: state.total + event.data.total };
      },
    });
    await expect(runProjection(store, definition, { batchSize: 100 })).rejects.toThrow(
      'projection "totals" failed on the event at position 2 (OrderPlaced): evolve boom',
    );
    expect(await store.readProjection('totals')).toMatchObject({
      status: 'failed',
      checkpoint: 1,
      lastError: 'evolve boom',
      errorPosition: 2,
    });
    expect(await storedStates(store)).toEqual({ 'cust-1': { orders: 1, total: 1 } });
  });

  it('marks the projection failed at the event when the upcaster, initialState or serialization fails', async () => {
    const cases: { what: string; definition: ProjectionDefinition; upcast?: boolean; error: string }[] = [
      { what: 'upcast', definition: totals(), upcast: true, error: 'upcast boom' },
      {
        what: 'initialState',
        definition: totals({
          initialState: () => {
            throw new Error('init boom');
          },
        }),
        error: 'init boom',
      },
      {
        what: 'serialize',
        definition: totals({
          evolve: (state, event) =>
            event.data.orderId === 'order-2'
              ? ({ n: 1n } as never)
              : { orders: state.orders + 1, total: state.total + event.data.total },
        }),
        error: 'Do not know how to serialize a BigInt',
      },
    ];
    for (const { what, definition, upcast, error } of cases) {
      const store = stores.open();
      await store.appendEvents(orders(3).filter((event) => event.topic === 'orders'));
      const failAt = what === 'initialState' ? 1 : 2;
      const options = upcast
        ? {
            upcast: (record: EventRecord) => {
              if (record.position === 2) throw new Error('upcast boom');
              return record;
            },
          }
        : {};
      const thrown = await runProjection(store, definition, options).catch((e: unknown) => e);
      expect(thrown, what).toBeInstanceOf(EvlogError);
      expect((thrown as EvlogError).message, what).toContain(`failed on the event at position ${failAt}`);
      expect(await store.readProjection('totals'), what).toMatchObject({
        status: 'failed',
        checkpoint: failAt - 1,
        lastError: expect.stringContaining(error),
        errorPosition: failAt,
      });
      const expected = failAt === 2 ? { 'cust-1': { orders: 1, total: 1 } } : {};
      expect(await storedStates(store), what).toEqual(expected);
    }
  });

  it('keeps a failed projection failed while a new run has not passed the failing event, even if that run dies', async () => {
    const store = stores.open();
    await store.appendEvents(orders(3).filter((event) => event.topic === 'orders'));
    await runProjection(store, totals({}, 'order-2')).catch(() => {});
    expect((await store.readProjection('totals'))?.status).toBe('failed');
    // A run whose first commit never lands (as if SIGKILLed before it).
    const hanging = new Proxy(store, {
      get(target, property) {
        if (property === 'commitProjection') return () => new Promise(() => {});
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    void runProjection(hanging, totals());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const record = await store.readProjection('totals');
    expect(record?.status).toBe('failed');
    expect(describeProjection('totals', totals(), record, 3, Date.now() + 60_000).status).toBe('failed');
    // Fixed, a run past the failing event clears it.
    await runProjection(store, totals());
    expect(await store.readProjection('totals')).toMatchObject({ status: 'idle', checkpoint: 3, lastError: null });
  });

  it('drops the state a reducer mutated in place before throwing, so the same runner resumes from the stored one', async () => {
    const store = stores.open();
    await store.appendEvents(orders(4).filter((event) => event.topic === 'orders'));
    let throws = 1;
    const runner = await createProjectionRunner(
      store,
      totals({
        evolve: (state, event) => {
          state.orders++;
          if (event.data.orderId === 'order-4' && throws-- > 0) throw new Error('boom');
          state.total += event.data.total;
          return state;
        },
      }),
      { batchSize: 2 },
    );
    await expect(runner.catchUp()).rejects.toThrow('boom');
    expect(await store.readProjection('totals')).toMatchObject({ status: 'failed', checkpoint: 3, errorPosition: 4 });
    await runner.catchUp({ following: true });
    expect(await store.readProjection('totals')).toMatchObject({ status: 'running', checkpoint: 4, lastError: null });
    await runner.stop();
    expect((await store.readProjection('totals'))?.status).toBe('idle');
    expect(await storedStates(store)).toEqual(await fromScratch(store, totals()));
  });

  it('does not set a projection idle when another run owns it (a loser of the checkpoint race)', async () => {
    const store = stores.open();
    await store.appendEvents(orders(3));
    const slow = await createProjectionRunner(store, totals());
    const winner = await createProjectionRunner(store, totals());
    await winner.catchUp({ following: true });
    expect((await store.readProjection('totals'))?.status).toBe('running');
    await store.appendEvents(orders(1, 4));
    await expect(slow.catchUp()).rejects.toMatchObject({ code: 'conflict' });
    await slow.stop();
    expect((await store.readProjection('totals'))?.status).toBe('running');
    await winner.catchUp();
    expect(await store.readProjection('totals')).toMatchObject({ status: 'idle', checkpoint: 8 });
  });

  it('marks a definition whose version changed stale, and refuses to run it until rebuilt', async () => {
    const store = stores.open();
    await store.appendEvents(orders(3));
    await runProjection(store, totals());
    const bumped = totals({ version: 2, evolve: (state) => ({ ...state, orders: state.orders + 10 }) });
    await expect(runProjection(store, bumped)).rejects.toThrow(
      'projection "totals" is stale: its read model was built by version 1, the definition is version 2',
    );
    const record = await store.readProjection('totals');
    expect(record?.status).toBe('stale');
    expect(describeProjection('totals', bumped, record, 6, Date.now()).status).toBe('stale');
    await rebuildProjection(store, bumped);
    expect(await store.readProjection('totals')).toMatchObject({ version: 2, status: 'idle', checkpoint: 6 });
    expect(await storedStates(store)).toEqual(await fromScratch(store, bumped));
  });
});

describe('rebuilding a projection', () => {
  it('lets readers see the old read model until the new one is swapped in', async () => {
    const store = stores.open();
    await store.appendEvents(orders(30));
    await runProjection(store, totals());
    const old = await storedStates(store);
    const doubled = totals({
      version: 2,
      evolve: (state, event) => ({ orders: state.orders + 2, total: state.total + 2 * event.data.total }),
    });
    const seenDuringRebuild: unknown[] = [];
    await rebuildProjection(store, doubled, {
      batchSize: 5,
      onProgress: () => {
        // Progress comes after each committed batch of the new generation.
        seenDuringRebuild.push(storedStates(store));
      },
    });
    for (const seen of await Promise.all(seenDuringRebuild)) expect(seen).toEqual(old);
    expect(seenDuringRebuild.length).toBeGreaterThan(3);
    expect(await storedStates(store)).toEqual(await fromScratch(store, doubled));
  });

  it('leaves the old read model intact when the rebuild stops half-way, and a new rebuild starts clean', async () => {
    const store = stores.open();
    await store.appendEvents(orders(30));
    await runProjection(store, totals());
    const old = await storedStates(store);
    const before = await store.readProjection('totals');
    let batches = 0;
    await expect(
      rebuildProjection(store, totals({ version: 2 }), {
        batchSize: 5,
        onProgress: () => {
          if (++batches === 3) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(await storedStates(store)).toEqual(old);
    expect(await store.readProjection('totals')).toMatchObject({
      version: 1,
      checkpoint: before?.checkpoint,
      generation: before?.generation,
      rebuild: null,
    });
    await rebuildProjection(store, totals({ version: 2 }));
    expect(await storedStates(store)).toEqual(old);
    expect((await store.readProjection('totals'))?.version).toBe(2);
  });

  it('leaves the old read model when the reducer throws during the rebuild', async () => {
    const store = stores.open();
    await store.appendEvents(orders(10));
    await runProjection(store, totals());
    const old = await storedStates(store);
    await expect(rebuildProjection(store, totals({}, 'order-7'))).rejects.toThrow('cannot total order-7');
    expect(await storedStates(store)).toEqual(old);
    expect((await store.readProjection('totals'))?.status).toBe('idle');
  });
});

describe('replaying a projection', () => {
  it('gives the same state from the nearest snapshot as from scratch, at every position', async () => {
    const store = stores.open();
    await store.appendEvents(orders(40));
    const definition = totals({ snapshotEvery: 10 });
    await runProjection(store, definition, { batchSize: 4 });
    const snapshot = await store.readProjectionSnapshot('totals', 1, 80);
    expect(snapshot?.position).toBeGreaterThanOrEqual(70);
    for (let position = 0; position <= 80; position += 3) {
      const withSnapshot = await replayProjection(store, definition, { untilPosition: position });
      expect(withSnapshot.state).toEqual(await fromScratch(store, definition, position));
      if (position >= 20) expect(withSnapshot.snapshotPosition).not.toBeNull();
      if (withSnapshot.snapshotPosition !== null) expect(withSnapshot.snapshotPosition).toBeLessThanOrEqual(position);
    }
  });

  it('never uses a snapshot of another version of the definition', async () => {
    const store = stores.open();
    await store.appendEvents(orders(20));
    await runProjection(store, totals({ snapshotEvery: 5 }));
    const bumped = totals({
      version: 2,
      snapshotEvery: 5,
      evolve: (state) => ({ ...state, orders: state.orders + 1 }),
    });
    const replay = await replayProjection(store, bumped, { untilPosition: 40 });
    expect(replay.snapshotPosition).toBeNull();
    expect(replay.state).toEqual(await fromScratch(store, bumped));
  });

  it('does not touch the stored read model', async () => {
    const store = stores.open();
    await store.appendEvents(orders(5));
    await runProjection(store, totals());
    const before = await store.readProjection('totals');
    await replayProjection(store, totals(), { untilPosition: 4 });
    expect(await store.readProjection('totals')).toEqual(before);
  });

  it('prints the one state of a projection without a key', async () => {
    const store = stores.open();
    await store.appendEvents(orders(3));
    const count = { name: 'count', version: 1, initialState: () => 0, evolve: (n: number) => n + 1 };
    expect((await replayProjection(store, count, { untilPosition: 0 })).state).toBe(0);
    expect((await replayProjection(store, count, { untilPosition: 5 })).state).toBe(5);
  });
});
