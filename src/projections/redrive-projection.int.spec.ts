import { describe, expect, it } from 'vitest';
import { redriveDeadLetters } from '../consumers/redrive.js';
import type { EventStore } from '../store/port.js';
import { useTempStores } from '../store/sqlite/test-store.js';
import type { ProjectionDefinition } from './define-projection.js';
import { rebuildProjection, runProjection } from './run-projection.js';

const stores = useTempStores();

/** A sum of `n` over one key; evolve throws on the orders in `broken` (the "bug" a fix removes). */
function sum(broken: Set<number>, key?: (n: number) => string | null): ProjectionDefinition<{ sum: number }> {
  return {
    name: 'totals',
    version: 1,
    topics: ['orders'],
    key: (event) => (key ? key(event.data.n as number) : 'k'),
    initialState: () => ({ sum: 0 }),
    evolve: (state, event) => {
      const n = event.data.n as number;
      if (broken.has(n)) throw new Error(`order ${n} is broken`);
      return { sum: state.sum + n };
    },
    onError: 'dead-letter',
  };
}

async function storeWith(count: number): Promise<{ store: EventStore; folder: string }> {
  const folder = stores.folder();
  const store = stores.open({}, `${folder}/evlog.db`);
  await store.appendEvents(
    Array.from({ length: count }, (_, i) => ({ topic: 'orders', key: 'k', type: 'OrderPlaced', data: { n: i + 1 } })),
  );
  return { store, folder };
}

async function stateOf(store: EventStore, key = 'k'): Promise<unknown> {
  const [row] = await store.readProjectionStates('totals', { keys: [key] });
  return row ? JSON.parse(row[1]) : undefined;
}

/** `dlq redrive --all`: every parked entry of the projection. */
async function redriveAll(store: EventStore, folder: string, definition: ProjectionDefinition) {
  const parked = await store.listDeadLetters({ group: 'totals', status: 'parked' }, { limit: 1000 });
  return redriveDeadLetters(
    store,
    parked.map((e) => e.id),
    { cwd: folder, env: {}, config: { projections: [definition] } },
  );
}

describe('a rebuild and the parked entries of its projection', () => {
  it('marks redriven the parked events the rebuild applied, so a redrive cannot apply them twice', async () => {
    const { store, folder } = await storeWith(3);
    const broken = new Set([3]);
    await runProjection(store, sum(broken));
    expect(await stateOf(store)).toEqual({ sum: 3 });
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    expect(entry).toMatchObject({ position: 3, status: 'parked' });

    broken.clear();
    await rebuildProjection(store, sum(broken));
    expect(await stateOf(store)).toEqual({ sum: 6 });
    const resolved = await store.readDeadLetter(entry?.id as number);
    expect(resolved).toMatchObject({ status: 'redriven', attempts: 1 });
    expect(resolved?.history).toEqual([
      {
        at: expect.any(Number),
        action: 'redriven',
        error: null,
        position: null,
        note: expect.stringContaining('rebuild'),
      },
    ]);

    expect(await redriveAll(store, folder, sum(broken))).toEqual([]);
    expect(
      await redriveDeadLetters(store, [entry?.id as number], {
        cwd: folder,
        env: {},
        config: { projections: [sum(broken)] },
      }),
    ).toEqual([{ id: entry?.id, outcome: 'skipped', error: 'already redriven' }]);
    expect(await stateOf(store)).toEqual({ sum: 6 });
  });

  it('keeps parked the events the rebuild failed on again, and discarded entries discarded', async () => {
    const { store, folder } = await storeWith(6);
    const broken = new Set([2, 4, 6]);
    await runProjection(store, sum(broken), { batchSize: 2 });
    expect(await stateOf(store)).toEqual({ sum: 1 + 3 + 5 });
    const entries = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    expect(entries.map((e) => e.position)).toEqual([2, 4, 6]);
    await store.discardDeadLetters([entries[2]?.id as number]);

    // The fix is for order 2 only; 6 is discarded, and applied by the rebuild as any event now valid.
    broken.delete(2);
    broken.delete(6);
    await rebuildProjection(store, sum(broken), { batchSize: 2 });
    expect(await stateOf(store)).toEqual({ sum: 1 + 2 + 3 + 5 + 6 });
    const after = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    expect(after.map((e) => [e.position, e.status])).toEqual([
      [2, 'redriven'],
      [4, 'parked'],
      [6, 'discarded'],
    ]);
    expect((await store.readDeadLetter(entries[1]?.id as number))?.history).toEqual([]);

    broken.clear();
    expect(await redriveAll(store, folder, sum(broken))).toEqual([
      { id: entries[1]?.id, outcome: 'redriven', error: null },
    ]);
    expect(await stateOf(store)).toEqual({ sum: 21 });
  });

  it('leaves parked an entry whose event the rebuilt definition no longer reads', async () => {
    const { store } = await storeWith(3);
    await store.appendEvents([{ topic: 'refunds', key: 'k', type: 'RefundIssued', data: { n: 10 } }]);
    const reading = (topics: string[], broken: Set<number>): ProjectionDefinition<{ sum: number }> => ({
      ...sum(broken),
      topics,
    });
    await runProjection(store, reading(['orders', 'refunds'], new Set([10])));
    expect(await stateOf(store)).toEqual({ sum: 6 });
    await rebuildProjection(store, reading(['orders'], new Set()));
    expect(await stateOf(store)).toEqual({ sum: 6 });
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    expect(entry).toMatchObject({ position: 4, status: 'parked' });
  });

  it('does so too for a rebuild by a definition that fails instead of parking', async () => {
    const { store } = await storeWith(3);
    await runProjection(store, sum(new Set([2])));
    await rebuildProjection(store, { ...sum(new Set()), onError: undefined });
    expect(await stateOf(store)).toEqual({ sum: 6 });
    expect((await store.listDeadLetters({ group: 'totals' }, { limit: 10 }))[0]?.status).toBe('redriven');
  });

  it('leaves a plain run alone: it never applies a parked position again', async () => {
    const { store } = await storeWith(3);
    const broken = new Set([2]);
    await runProjection(store, sum(broken));
    broken.clear();
    await store.appendEvents([{ topic: 'orders', key: 'k', type: 'OrderPlaced', data: { n: 4 } }]);
    await runProjection(store, sum(broken));
    expect(await stateOf(store)).toEqual({ sum: 1 + 3 + 4 });
    expect((await store.listDeadLetters({ group: 'totals' }, { limit: 10 }))[0]?.status).toBe('parked');
  });
});

describe('redriving a projection entry', () => {
  it('finishes an entry whose event key() now skips: redriven, no state written, not left claimed', async () => {
    const { store, folder } = await storeWith(3);
    const broken = new Set([3]);
    await runProjection(store, sum(broken));
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    const id = entry?.id as number;

    // The fix: order 3 belongs to no key.
    const fixed = sum(broken, (n) => (n === 3 ? null : 'k'));
    expect(await redriveDeadLetters(store, [id], { cwd: folder, env: {}, config: { projections: [fixed] } })).toEqual([
      { id, outcome: 'redriven', error: null },
    ]);
    const after = await store.readDeadLetter(id);
    expect(after).toMatchObject({ status: 'redriven' });
    expect(after?.history).toEqual([
      { at: expect.any(Number), action: 'redriven', error: null, position: null, note: expect.stringContaining('key') },
    ]);
    expect(await store.listDeadLetters({ group: 'totals', status: 'parked' }, { limit: 10 })).toEqual([]);
    expect(await store.readProjectionStates('totals')).toEqual([['k', JSON.stringify({ sum: 3 })]]);
    expect((await store.readProjection('totals'))?.checkpoint).toBe(3);
  });

  it('still refuses it while a runner holds the projection (the entry stays parked)', async () => {
    const { store, folder } = await storeWith(3);
    await runProjection(store, sum(new Set([3])));
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    const id = entry?.id as number;
    await store.setProjectionStatus('totals', 'running');
    const fixed = sum(new Set(), (n) => (n === 3 ? null : 'k'));
    const outcomes = await redriveDeadLetters(store, [id], { cwd: folder, env: {}, config: { projections: [fixed] } });
    expect(outcomes).toEqual([{ id, outcome: 'skipped', error: expect.stringContaining('being run') }]);
    expect(await store.readDeadLetter(id)).toMatchObject({ status: 'parked', history: [] });
  });
});
