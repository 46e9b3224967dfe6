import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingsToJson } from '../consumers/handler.js';
import { defineProjection } from '../projections/define-projection.js';
import { createRecordUpcaster } from '../schema/upcast.js';
// Not a React hook, whatever its name says (the React lint rules apply under src/tui).
import { useTempStores as tempStores } from '../store/sqlite/test-store.js';
import { createInspectorData } from './create-inspector-data.js';

const stores = tempStores();

const totals = defineProjection({
  name: 'totals',
  version: 1,
  initialState: () => 0,
  evolve: (sum: number, event) => sum + (event.data as { total: number }).total,
});

async function shop() {
  const folder = stores.folder();
  const store = stores.open({}, join(folder, 'evlog.db'));
  await store.appendEvents(
    [1, 2, 3].map((n) => ({ topic: 'orders', key: `order-${n}`, type: 'OrderPlaced', data: { total: n } })),
  );
  return { folder, store };
}

describe('createInspectorData on a real store', () => {
  it('lists projections of the config and the store with their parked entries, and rebuilds with progress', async () => {
    const { folder, store } = await shop();
    await store.parkDeadLetters([
      {
        source: 'projection',
        group: 'totals',
        position: 2,
        topic: 'orders',
        type: 'OrderPlaced',
        line: null,
        reason: 'projection-error',
        error: 'boom',
        attempts: 1,
      },
    ]);
    const data = createInspectorData(store, { projections: [totals], cwd: folder, env: {}, now: Date.now });
    expect(await data.listProjections()).toMatchObject([{ name: 'totals', version: 1, lag: 3, parked: 1 }]);
    const progress: [number, number][] = [];
    const report = await data.rebuildProjection('totals', (done, total) => progress.push([done, total]));
    expect(report).toMatchObject({ name: 'totals', to: 3, events: 3 });
    expect(progress.at(-1)).toEqual([3, 3]);
    expect(await data.listProjections()).toMatchObject([{ name: 'totals', checkpoint: 3, lag: 0 }]);
    await expect(data.rebuildProjection('nope', () => {})).rejects.toThrow('projection "nope" is not in the config');
  });

  it('shows events upcast, and an event whose upcaster throws as stored', async () => {
    const { folder, store } = await shop();
    const upcast = createRecordUpcaster(
      {
        OrderPlaced: {
          1: (data: { total: number }) => {
            if (data.total === 2) throw new Error('bad order');
            return { ...data, currency: 'EUR' };
          },
        },
      },
      new Map([['OrderPlaced', 2]]),
    );
    const data = createInspectorData(store, { projections: [], upcast, cwd: folder, env: {}, now: Date.now });
    const records = await data.readEvents({}, { direction: 'forward', limit: 10 });
    expect(records.map((r) => JSON.parse(r.dataJson))).toEqual([
      { total: 1, currency: 'EUR' },
      { total: 2 },
      { total: 3, currency: 'EUR' },
    ]);
  });

  it('redrives through the library, and on settle finishes the entry in flight and starts no other', async () => {
    const { folder, store } = await shop();
    const handler = join(folder, 'slow.mjs');
    writeFileSync(
      handler,
      'export default async () => { await new Promise((resolve) => setTimeout(resolve, 300)); };\n',
    );
    await store.saveConsumerGroup(
      'mailer',
      'orders',
      settingsToJson({ handler: { module: handler }, maxAttempts: 3, backoffMs: 0, timeoutMs: 10_000 }),
    );
    const ids = await store.parkDeadLetters(
      [1, 2, 3].map((position) => ({
        source: 'consumer' as const,
        group: 'mailer',
        position,
        topic: 'orders',
        type: 'OrderPlaced',
        line: null,
        reason: 'handler-failed' as const,
        error: 'smtp down',
        attempts: 3,
      })),
    );
    const data = createInspectorData(store, { projections: [], cwd: folder, env: {}, now: Date.now });
    const redrive = data.deadLetters.redrive(ids);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(data.pending()).toBe(1);
    await data.settle();
    expect(data.pending()).toBe(0);
    expect(await redrive).toEqual([{ id: ids[0], outcome: 'redriven', error: null }]);
    const entries = await store.listDeadLetters({ ids }, { limit: 3 });
    expect(entries.map((e) => e.status)).toEqual(['redriven', 'parked', 'parked']);
    // Nothing is left claimed: the others can be discarded (a claim would make them skipped).
    expect(await data.deadLetters.discard([ids[1] as number, ids[2] as number])).toEqual([
      { id: ids[1], outcome: 'discarded', reason: null },
      { id: ids[2], outcome: 'discarded', reason: null },
    ]);
  });
});
