import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvlogConfig } from '../config/load-config.js';
import type { ProjectionDefinition } from '../projections/define-projection.js';
import { runProjection } from '../projections/run-projection.js';
import { registerSchema } from '../schema/register-schema.js';
import type { EventStore } from '../store/port.js';
import { useTempStores } from '../store/sqlite/test-store.js';
import type { NewDeadLetter } from '../store/types.js';
import { settingsToJson } from './handler.js';
import { deadLetterPages, discardDeadLetters, redriveDeadLetters } from './redrive.js';

const stores = useTempStores();

/**
 * A module handler that appends one line per delivery to `log` (position, attempt, data) and
 * fails while the `broken` flag file exists: the handler "fixed" is the flag removed.
 */
function writeHandler(folder: string): { module: string; log: string; flag: string } {
  const log = join(folder, 'deliveries.log');
  const flag = join(folder, 'broken');
  const module = join(folder, 'handler.mjs');
  writeFileSync(
    module,
    `import { appendFileSync, existsSync } from 'node:fs';
export default async function (event, context) {
  appendFileSync(${JSON.stringify(log)}, JSON.stringify({ position: event.position, attempt: context.attempt, group: context.group, data: event.data }) + '\\n');
  if (existsSync(${JSON.stringify(flag)})) throw new Error('smtp down for ' + event.position);
}
`,
  );
  return { module, log, flag };
}

function deliveries(log: string): { position: number; attempt: number; group: string; data: unknown }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

function consumerEntry(position: number, overrides: Partial<NewDeadLetter> = {}): NewDeadLetter {
  return {
    source: 'consumer',
    group: 'mailer',
    position,
    topic: 'orders',
    type: 'OrderPlaced',
    line: null,
    reason: 'handler-failed',
    error: 'smtp down',
    attempts: 3,
    ...overrides,
  };
}

async function storeWithOrders(count: number): Promise<{ store: EventStore; folder: string }> {
  const folder = stores.folder();
  const store = stores.open({}, join(folder, 'evlog.db'));
  await store.appendEvents(
    Array.from({ length: count }, (_, i) => ({
      topic: 'orders',
      key: `order-${i + 1}`,
      type: 'OrderPlaced',
      data: { orderId: `order-${i + 1}`, total: i + 1 },
    })),
  );
  return { store, folder };
}

const options = (folder: string, config?: EvlogConfig) => ({ cwd: folder, env: {}, config: config ?? {} });

describe('redriving consumer dead letters', () => {
  it('delivers each entry once per redrive: failed again (attempts raised), then redriven once fixed, then skipped', async () => {
    const { store, folder } = await storeWithOrders(5);
    const handler = writeHandler(folder);
    await store.saveConsumerGroup(
      'mailer',
      'orders',
      settingsToJson({ handler: { module: handler.module }, maxAttempts: 3, backoffMs: 0, timeoutMs: 5000 }),
    );
    const ids = await store.parkDeadLetters([consumerEntry(2), consumerEntry(4)]);
    writeFileSync(handler.flag, '');

    const failed = await redriveDeadLetters(store, ids, options(folder));
    expect(failed).toEqual([
      { id: ids[0], outcome: 'failed', error: expect.stringContaining('smtp down for 2') },
      { id: ids[1], outcome: 'failed', error: expect.stringContaining('smtp down for 4') },
    ]);
    expect(deliveries(handler.log)).toEqual([
      { position: 2, attempt: 4, group: 'mailer', data: { orderId: 'order-2', total: 2 } },
      { position: 4, attempt: 4, group: 'mailer', data: { orderId: 'order-4', total: 4 } },
    ]);
    const still = await store.readDeadLetter(ids[0] as number);
    expect(still).toMatchObject({ status: 'parked', attempts: 4, reason: 'handler-failed' });
    expect(still?.error).toContain('smtp down for 2');
    expect(still?.history.map((h) => h.action)).toEqual(['failed']);

    rmSync(handler.flag);
    expect(await redriveDeadLetters(store, ids, options(folder))).toEqual([
      { id: ids[0], outcome: 'redriven', error: null },
      { id: ids[1], outcome: 'redriven', error: null },
    ]);
    expect(deliveries(handler.log).map((d) => [d.position, d.attempt])).toEqual([
      [2, 4],
      [4, 4],
      [2, 5],
      [4, 5],
    ]);
    expect((await store.readDeadLetter(ids[1] as number))?.history.map((h) => h.action)).toEqual([
      'failed',
      'redriven',
    ]);

    // The same redrive again: nothing is delivered, each entry is reported as skipped.
    expect(await redriveDeadLetters(store, ids, options(folder))).toEqual([
      { id: ids[0], outcome: 'skipped', error: 'already redriven' },
      { id: ids[1], outcome: 'skipped', error: 'already redriven' },
    ]);
    expect(deliveries(handler.log)).toHaveLength(4);
  });

  it('runs an --exec handler with the EVLOG_* variables, and keeps its stderr tail as the new error', async () => {
    const { store, folder } = await storeWithOrders(3);
    const log = join(folder, 'exec.log');
    await store.saveConsumerGroup(
      'mailer',
      'orders',
      settingsToJson({
        handler: {
          exec: `echo "$EVLOG_POSITION $EVLOG_ATTEMPT $(cat)" >> ${log}; test "$EVLOG_POSITION" = 3 || { echo nope >&2; exit 3; }`,
        },
        maxAttempts: 1,
        backoffMs: 0,
        timeoutMs: 5000,
      }),
    );
    const ids = await store.parkDeadLetters([consumerEntry(1, { attempts: 1 }), consumerEntry(3, { attempts: 1 })]);
    const outcomes = await redriveDeadLetters(store, ids, options(folder));
    expect(outcomes).toEqual([
      { id: ids[0], outcome: 'failed', error: 'exited with code 3: nope' },
      { id: ids[1], outcome: 'redriven', error: null },
    ]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(['1 2', '3 2']);
    expect(JSON.parse(lines[1]?.split(' ').slice(2).join(' ') ?? '')).toMatchObject({
      position: 3,
      type: 'OrderPlaced',
    });
  });

  it('refuses unknown ids, and groups without a handler, before delivering anything', async () => {
    const { store, folder } = await storeWithOrders(2);
    const handler = writeHandler(folder);
    await store.saveConsumerGroup(
      'mailer',
      'orders',
      settingsToJson({ handler: { module: handler.module }, maxAttempts: 3, backoffMs: 0, timeoutMs: 5000 }),
    );
    const ids = await store.parkDeadLetters([consumerEntry(1), consumerEntry(2, { group: 'ghost' })]);
    await expect(redriveDeadLetters(store, [ids[0] as number, 99], options(folder))).rejects.toMatchObject({
      code: 'not_found',
      message: 'no dead letter with id 99',
    });
    await expect(redriveDeadLetters(store, ids, options(folder))).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('consumer group "ghost" has no handler'),
    });
    expect(deliveries(handler.log)).toEqual([]);
    expect((await store.readDeadLetter(ids[0] as number))?.history).toEqual([]);
  });

  it("uses the config's consumer when the group has no record in the store", async () => {
    const { store, folder } = await storeWithOrders(2);
    const handler = writeHandler(folder);
    const [id] = await store.parkDeadLetters([consumerEntry(2, { group: 'declared' })]);
    const config: EvlogConfig = { consumers: [{ name: 'declared', topic: 'orders', handler: handler.module }] };
    expect(await redriveDeadLetters(store, [id as number], options(folder, config))).toEqual([
      { id, outcome: 'redriven', error: null },
    ]);
    expect(deliveries(handler.log)).toEqual([{ position: 2, attempt: 4, group: 'declared', data: expect.anything() }]);
  });

  it('skips entries another redrive holds, and releases its own claim when interrupted', async () => {
    const { store, folder } = await storeWithOrders(3);
    const handler = writeHandler(folder);
    await store.saveConsumerGroup(
      'mailer',
      'orders',
      settingsToJson({ handler: { module: handler.module }, maxAttempts: 3, backoffMs: 0, timeoutMs: 5000 }),
    );
    const ids = await store.parkDeadLetters([consumerEntry(1), consumerEntry(2), consumerEntry(99)]);
    await store.claimDeadLetters([ids[0] as number], 'other-redrive', Date.now() + 60_000);
    // Entry 3's event does not exist: the redrive stops there with an error, and gives its claim back.
    await expect(redriveDeadLetters(store, ids, options(folder))).rejects.toMatchObject({ code: 'not_found' });
    expect(deliveries(handler.log).map((d) => d.position)).toEqual([2]);
    expect((await store.claimDeadLetters([ids[2] as number], 'next', Date.now() + 1000)).map((e) => e.id)).toEqual([
      ids[2],
    ]);

    // Aborted after the first delivery: the rest is left parked and unclaimed.
    const more = await store.parkDeadLetters([consumerEntry(1), consumerEntry(3)]);
    const controller = new AbortController();
    const outcomes = await redriveDeadLetters(store, [ids[0] as number, ...more], {
      ...options(folder),
      signal: controller.signal,
      onOutcome: (outcome) => {
        if (outcome.outcome !== 'skipped') controller.abort();
      },
    });
    expect(outcomes).toEqual([
      { id: ids[0], outcome: 'skipped', error: 'claimed by another redrive in progress' },
      { id: more[0], outcome: 'redriven', error: null },
    ]);
    expect((await store.readDeadLetter(more[1] as number))?.status).toBe('parked');
    expect((await store.claimDeadLetters([more[1] as number], 'next', Date.now() + 1000)).length).toBe(1);
  });

  it('delivers the event upcast as consumers see it, when the store has schemas', async () => {
    const { store, folder } = await storeWithOrders(1);
    const handler = writeHandler(folder);
    await registerSchema(store, 'OrderPlaced', { type: 'object' });
    await registerSchema(store, 'OrderPlaced', { type: 'object', properties: { channel: {} } }, { compat: 'none' });
    await store.saveConsumerGroup(
      'mailer',
      'orders',
      settingsToJson({ handler: { module: handler.module }, maxAttempts: 3, backoffMs: 0, timeoutMs: 5000 }),
    );
    const [id] = await store.parkDeadLetters([consumerEntry(1)]);
    const config: EvlogConfig = { upcasters: { OrderPlaced: { 1: (data: object) => ({ ...data, channel: 'web' }) } } };
    await redriveDeadLetters(store, [id as number], options(folder, config));
    expect(deliveries(handler.log)[0]?.data).toEqual({ orderId: 'order-1', total: 1, channel: 'web' });
  });
});

describe('redriving projection dead letters', () => {
  /** Totals per customer; evolve throws on the orders listed in `broken` (the "bug"). */
  function totals(broken: Set<string>, version = 1): ProjectionDefinition<{ orders: number; total: number }> {
    return {
      name: 'totals',
      version,
      topics: ['orders'],
      key: (event) => (event.data.orderId === 'order-1' || event.data.orderId === 'order-3' ? 'odd' : 'other'),
      initialState: () => ({ orders: 0, total: 0 }),
      evolve: (state, event) => {
        if (broken.has(event.data.orderId)) throw new Error(`cannot total ${event.data.orderId}`);
        return { orders: state.orders + 1, total: state.total + event.data.total };
      },
      onError: 'dead-letter',
    };
  }

  it('parks and goes on, then applies the fixed event once to its key, without moving the checkpoint', async () => {
    const { store, folder } = await storeWithOrders(4);
    const broken = new Set(['order-3']);
    const definition = totals(broken);
    const report = await runProjection(store, definition);
    expect(report.to).toBe(4);
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 10 });
    expect(entry).toMatchObject({
      source: 'projection',
      position: 3,
      reason: 'projection-error',
      error: 'cannot total order-3',
      attempts: 1,
    });
    const states = async () =>
      Object.fromEntries((await store.readProjectionStates('totals')).map(([k, v]) => [k, JSON.parse(v)]));
    expect(await states()).toEqual({ odd: { orders: 1, total: 1 }, other: { orders: 2, total: 6 } });
    const config: EvlogConfig = { projections: [definition] };
    const id = entry?.id as number;

    expect(await redriveDeadLetters(store, [id], options(folder, config))).toEqual([
      { id, outcome: 'failed', error: 'cannot total order-3' },
    ]);
    expect(await states()).toEqual({ odd: { orders: 1, total: 1 }, other: { orders: 2, total: 6 } });

    broken.clear();
    expect(await redriveDeadLetters(store, [id], options(folder, config))).toEqual([
      { id, outcome: 'redriven', error: null },
    ]);
    expect(await redriveDeadLetters(store, [id], options(folder, config))).toEqual([
      { id, outcome: 'skipped', error: 'already redriven' },
    ]);
    expect(await states()).toEqual({ odd: { orders: 2, total: 4 }, other: { orders: 2, total: 6 } });
    expect((await store.readProjection('totals'))?.checkpoint).toBe(4);
    expect((await store.readDeadLetter(id))?.attempts).toBe(2);
  });

  it('refuses a stale read model (rebuild first), and skips while a runner holds the projection', async () => {
    const { store, folder } = await storeWithOrders(3);
    const broken = new Set(['order-2']);
    await runProjection(store, totals(broken));
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 1 });
    const id = entry?.id as number;
    broken.clear();
    const stale = await redriveDeadLetters(store, [id], options(folder, { projections: [totals(broken, 2)] }));
    expect(stale).toEqual([{ id, outcome: 'failed', error: expect.stringContaining('rebuild it first') }]);

    await store.setProjectionStatus('totals', 'running');
    const busy = await redriveDeadLetters(store, [id], options(folder, { projections: [totals(broken)] }));
    expect(busy).toEqual([{ id, outcome: 'skipped', error: expect.stringContaining('being run by another process') }]);
    expect((await store.readDeadLetter(id))?.status).toBe('parked');
    await store.setProjectionStatus('totals', 'idle');
    expect(
      (await redriveDeadLetters(store, [id], options(folder, { projections: [totals(broken)] })))[0]?.outcome,
    ).toBe('redriven');
  });

  it('names a projection the config does not declare, before doing anything', async () => {
    const { store, folder } = await storeWithOrders(2);
    await runProjection(store, totals(new Set(['order-1'])));
    const [entry] = await store.listDeadLetters({ group: 'totals' }, { limit: 1 });
    await expect(redriveDeadLetters(store, [entry?.id as number], options(folder, {}))).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('no projection "totals"'),
    });
  });
});

describe('redriving batch lines', () => {
  it('appends a line that is valid now, once, in the transaction that marks it redriven', async () => {
    const { store, folder } = await storeWithOrders(1);
    await registerSchema(store, 'Refund', {
      type: 'object',
      properties: { amount: { type: 'number' } },
      required: ['amount'],
    });
    const [bad, garbage] = await store.parkDeadLetters([
      {
        source: 'append',
        group: 'append',
        position: null,
        topic: 'payments',
        type: 'Refund',
        line: '{"type":"Refund","key":"order-1","data":{"amount":"12.50"}}',
        reason: 'invalid',
        error: 'Refund v1: the data breaks its schema',
        attempts: 1,
      },
      {
        source: 'append',
        group: 'append',
        position: null,
        topic: null,
        type: null,
        line: '{"type":',
        reason: 'invalid',
        error: 'not JSON',
        attempts: 1,
      },
    ]);
    const ids = [bad as number, garbage as number];
    const first = await redriveDeadLetters(store, ids, options(folder));
    expect(first).toEqual([
      { id: bad, outcome: 'failed', error: expect.stringContaining('$.amount: must be number') },
      { id: garbage, outcome: 'failed', error: expect.stringContaining('the line is not valid JSON') },
    ]);
    expect((await store.head()).position).toBe(1);

    // The schema is relaxed: the line is valid now.
    await registerSchema(store, 'Refund', { type: 'object' }, { compat: 'none' });
    const second = await redriveDeadLetters(store, [bad as number], options(folder));
    expect(second).toEqual([{ id: bad, outcome: 'redriven', error: null }]);
    expect(await redriveDeadLetters(store, [bad as number], options(folder))).toEqual([
      { id: bad, outcome: 'skipped', error: 'already redriven' },
    ]);
    const [appended] = await store.readEvents({ topics: ['payments'] }, { direction: 'forward', limit: 10 });
    expect(appended).toMatchObject({
      position: 2,
      topic: 'payments',
      key: 'order-1',
      type: 'Refund',
      schemaVersion: 2,
    });
    expect((await store.head()).position).toBe(2);
    expect((await store.readDeadLetter(bad as number))?.history.at(-1)).toMatchObject({
      action: 'redriven',
      position: 2,
    });
  });
});

describe('discarding and paging', () => {
  it('discards parked entries once, skips the others, and refuses unknown ids', async () => {
    const { store } = await storeWithOrders(1);
    const ids = await store.parkDeadLetters([consumerEntry(1), consumerEntry(1)]);
    await expect(discardDeadLetters(store, [...ids, 42])).rejects.toMatchObject({ code: 'not_found' });
    expect(await discardDeadLetters(store, ids)).toEqual([
      { id: ids[0], outcome: 'discarded', reason: null },
      { id: ids[1], outcome: 'discarded', reason: null },
    ]);
    expect(await discardDeadLetters(store, ids)).toEqual([
      { id: ids[0], outcome: 'skipped', reason: 'discarded' },
      { id: ids[1], outcome: 'skipped', reason: 'discarded' },
    ]);
    expect(await store.countDeadLetters({ status: 'discarded' })).toBe(2);
  });

  it('pages through every matching entry', async () => {
    const { store } = await storeWithOrders(1);
    await store.parkDeadLetters(Array.from({ length: 1203 }, (_, i) => consumerEntry(1, { group: i % 3 ? 'a' : 'b' })));
    const seen: number[] = [];
    for await (const page of deadLetterPages(store, { group: 'b' }, 100)) {
      expect(page.length).toBeLessThanOrEqual(100);
      seen.push(...page.map((e) => e.id));
    }
    expect(seen).toHaveLength(401);
    expect(new Set(seen).size).toBe(401);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });
});
