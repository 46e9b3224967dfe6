import { describe, expect, it } from 'vitest';
import { EvlogError } from '../errors.js';
import type { EventRecord, EventStore } from '../store/index.js';
import { manualClock, useTempStores } from '../store/sqlite/test-store.js';
import type { Deliver, DeliveryResult, GroupSettings } from './handler.js';
import { leaseOwnerId } from './lease.js';
import { type ConsumeReport, type RunnerClock, runConsumer } from './run-consumer.js';

const SETTINGS: GroupSettings = { handler: { exec: 'true' }, maxAttempts: 3, backoffMs: 100, timeoutMs: 1000 };

/** A runner clock on a manual clock: sleeping moves time on at once and is recorded. */
function testClock() {
  const clock = manualClock();
  const sleeps: number[] = [];
  const runner: RunnerClock = {
    now: clock.now,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  };
  return { clock, runner, sleeps };
}

/** A handler that records deliveries and answers from a script per position (default: success). */
function scriptedHandler(script: (record: EventRecord, attempt: number) => DeliveryResult = () => ({ ok: true })) {
  const deliveries: [number, number][] = [];
  const deliver: Deliver = async (record, delivery) => {
    deliveries.push([record.position, delivery.attempt]);
    return script(record, delivery.attempt);
  };
  return { deliver, deliveries };
}

async function seed(store: EventStore) {
  // orders at 1, 2, 4, 5; payments at 3.
  await store.appendEvents([
    { topic: 'orders', key: 'o-1', type: 'OrderPlaced', data: { n: 1 } },
    { topic: 'orders', key: 'o-2', type: 'OrderPlaced', data: { n: 2 } },
    { topic: 'payments', key: 'o-1', type: 'PaymentProcessed', data: {} },
    { topic: 'orders', key: 'o-1', type: 'OrderCancelled', data: { n: 1 } },
    { topic: 'orders', key: 'o-3', type: 'OrderPlaced', data: { n: 3 } },
  ]);
}

describe('runConsumer', () => {
  const stores = useTempStores();

  it("delivers the topic's events in position order and moves the checkpoint past each", async () => {
    const store = stores.open();
    await seed(store);
    const handler = scriptedHandler();
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
    });
    expect(handler.deliveries).toEqual([
      [1, 1],
      [2, 1],
      [4, 1],
      [5, 1],
    ]);
    expect(summary).toEqual({
      group: 'g',
      topic: 'orders',
      events: 4,
      succeeded: 4,
      deadLettered: 0,
      retries: 0,
      checkpoint: 5,
      stopped: 'caught-up',
    });
    const group = await store.readConsumerGroup('g');
    expect(group).toMatchObject({ checkpoint: 5, leaseOwner: null, topic: 'orders' });
    expect(JSON.parse(group?.handlerJson ?? '')).toEqual({
      exec: 'true',
      maxAttempts: 3,
      backoffMs: 100,
      timeoutMs: 1000,
    });

    // A second run has nothing to deliver.
    const again = scriptedHandler();
    expect(
      (await runConsumer(store, { group: 'g', topic: 'orders', settings: SETTINGS, deliver: again.deliver })).events,
    ).toBe(0);
    expect(again.deliveries).toEqual([]);
  });

  it('retries with doubling backoff, then succeeds without a dead letter', async () => {
    const store = stores.open();
    await seed(store);
    const { runner, sleeps } = testClock();
    const handler = scriptedHandler((record, attempt) =>
      record.position === 2 && attempt < 3
        ? { ok: false, reason: 'handler-failed', error: `no ${attempt}` }
        : { ok: true },
    );
    const reports: ConsumeReport[] = [];
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
      clock: runner,
      onReport: (r) => reports.push(r),
    });
    expect(sleeps).toEqual([100, 200]);
    expect(handler.deliveries.filter(([p]) => p === 2)).toEqual([
      [2, 1],
      [2, 2],
      [2, 3],
    ]);
    expect(summary).toMatchObject({ events: 4, succeeded: 4, deadLettered: 0, retries: 2 });
    expect(
      reports.filter((r) => r.kind === 'retrying').map((r) => r.kind === 'retrying' && [r.attempt, r.delayMs, r.error]),
    ).toEqual([
      [1, 100, 'no 1'],
      [2, 200, 'no 2'],
    ]);
    expect(await store.countDeadLetters({})).toBe(0);
  });

  it('dead-letters after the last attempt, with its reason, error and times, and goes on', async () => {
    const store = stores.open();
    await seed(store);
    const { clock, runner, sleeps } = testClock();
    const started = clock.now();
    const handler = scriptedHandler((record, attempt) =>
      record.type === 'OrderCancelled'
        ? { ok: false, reason: attempt === 3 ? 'timeout' : 'handler-failed', error: `attempt ${attempt} failed` }
        : { ok: true },
    );
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: { ...SETTINGS, backoffMs: 40_000 },
      deliver: handler.deliver,
      clock: runner,
    });
    // 40 s, then 80 s capped at a minute.
    expect(sleeps).toEqual([40_000, 60_000]);
    expect(summary).toMatchObject({ events: 4, succeeded: 3, deadLettered: 1, checkpoint: 5 });
    expect(handler.deliveries.map(([p]) => p)).toEqual([1, 2, 4, 4, 4, 5]);
    const [entry] = await store.listDeadLetters({}, { limit: 10 });
    expect(entry).toMatchObject({
      source: 'consumer',
      group: 'g',
      position: 4,
      topic: 'orders',
      type: 'OrderCancelled',
      line: null,
      reason: 'timeout',
      error: 'attempt 3 failed',
      attempts: 3,
      status: 'parked',
      firstFailedAt: started,
    });
    expect(entry?.lastFailedAt).toBeGreaterThanOrEqual(started);
    expect((await store.listConsumerGroups())[0]).toMatchObject({ name: 'g', parked: 1, lag: 0 });
  });

  it('on a stop signal, finishes the event in flight, commits it, and delivers nothing more', async () => {
    const store = stores.open();
    await seed(store);
    const controller = new AbortController();
    const handler = scriptedHandler((record) => {
      if (record.position === 2) controller.abort();
      return { ok: true };
    });
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
      signal: controller.signal,
    });
    expect(summary).toMatchObject({ events: 2, checkpoint: 2, stopped: 'signal' });
    expect(handler.deliveries.map(([p]) => p)).toEqual([1, 2]);
    expect((await store.readConsumerGroup('g'))?.checkpoint).toBe(2);
  });

  it('stopped while waiting to retry, leaves the event for the next run', async () => {
    const store = stores.open();
    await seed(store);
    const controller = new AbortController();
    const runner: RunnerClock = {
      now: Date.now,
      sleep: async () => controller.abort(),
    };
    const handler = scriptedHandler((record) =>
      record.position === 2 ? { ok: false, reason: 'handler-failed', error: 'down' } : { ok: true },
    );
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
      signal: controller.signal,
      clock: runner,
    });
    expect(summary).toMatchObject({ checkpoint: 1, stopped: 'signal', deadLettered: 0 });
    expect(await store.countDeadLetters({})).toBe(0);
    const next = scriptedHandler();
    await runConsumer(store, { group: 'g', topic: 'orders', settings: SETTINGS, deliver: next.deliver });
    expect(next.deliveries.map(([p]) => p)).toEqual([2, 4, 5]);
  });

  it('stops after --limit events and carries on from there next time', async () => {
    const store = stores.open();
    await seed(store);
    const first = scriptedHandler();
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: first.deliver,
      limit: 2,
    });
    expect(summary).toMatchObject({ events: 2, checkpoint: 2, stopped: 'limit' });
    const second = scriptedHandler();
    await runConsumer(store, { group: 'g', topic: 'orders', settings: SETTINGS, deliver: second.deliver });
    expect(second.deliveries.map(([p]) => p)).toEqual([4, 5]);
  });

  it('with checkpointEvery, writes the checkpoint every n events, at a dead letter, and when caught up', async () => {
    const store = stores.open();
    const events = Array.from({ length: 10 }, (_, i) => ({ topic: 'orders', type: 'T', data: { i } }));
    await store.appendEvents(events);
    const checkpoints: number[] = [];
    const original = store.commitConsumerCheckpoint.bind(store);
    store.commitConsumerCheckpoint = async (name, owner, position, options) => {
      checkpoints.push(position);
      return original(name, owner, position, options);
    };
    const handler = scriptedHandler((record) =>
      record.position === 5 ? { ok: false, reason: 'handler-failed', error: 'x' } : { ok: true },
    );
    await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: { ...SETTINGS, maxAttempts: 1 },
      deliver: handler.deliver,
      checkpointEvery: 3,
    });
    expect(checkpoints).toEqual([3, 5, 8, 10]);
    expect((await store.listDeadLetters({}, { limit: 5 })).map((e) => e.position)).toEqual([5]);
  });

  it('refuses a second process while the lease is held, and waits for it with follow', async () => {
    const store = stores.open();
    await seed(store);
    await store.saveConsumerGroup('g', 'orders', '{"exec":"true"}');
    const holder = stores.open({}, store.path);
    expect((await holder.acquireGroupLease('g', 'other-host:1:abc', 60_000)).acquired).toBe(true);
    const handler = scriptedHandler();
    const refused = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
    }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EvlogError);
    expect((refused as EvlogError).code).toBe('conflict');
    expect((refused as EvlogError).message).toContain('pid 1 on other-host');

    // With follow it waits; the holder lets go; it takes over and delivers everything.
    const controller = new AbortController();
    const reports: ConsumeReport[] = [];
    const running = runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
      follow: true,
      signal: controller.signal,
      onReport: (report) => {
        reports.push(report);
        if (report.kind === 'waiting') setTimeout(() => void holder.releaseGroupLease('g', 'other-host:1:abc'), 50);
        if (report.kind === 'caught-up') controller.abort();
      },
    });
    const waitStarted = Date.now();
    const summary = await running;
    // Woken by the release's commit, not by the once-a-second look.
    expect(Date.now() - waitStarted).toBeLessThan(700);
    expect(reports[0]).toMatchObject({ kind: 'waiting', holder: 'other-host:1:abc' });
    expect(summary).toMatchObject({ events: 4, checkpoint: 5, stopped: 'signal' });
    expect(handler.deliveries).toHaveLength(4);
  });

  it('takes the lease over at once from a holder on this host whose process is gone', async () => {
    const store = stores.open();
    await seed(store);
    await store.saveConsumerGroup('g', 'orders', '{"exec":"true"}');
    // This machine's own owner id, with a pid that cannot exist on Linux (above pid_max).
    const [host, , , table] = leaseOwnerId().split(':');
    await store.acquireGroupLease('g', `${host}:99999999:dead:${table}`, 60_000);
    const handler = scriptedHandler();
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
    });
    expect(summary.events).toBe(4);
  });

  it('stops with a conflict, without moving the checkpoint, when another process took the lease', async () => {
    const store = stores.open();
    await seed(store);
    const handler = scriptedHandler();
    const deliver: Deliver = async (record, delivery) => {
      if (record.position === 2) {
        // Another process takes over (as after this one stalled past its lease).
        const group = await store.readConsumerGroup('g');
        await store.acquireGroupLease('g', 'thief', 60_000, group?.leaseOwner ?? undefined);
      }
      return handler.deliver(record, delivery);
    };
    const error = await runConsumer(store, { group: 'g', topic: 'orders', settings: SETTINGS, deliver }).catch(
      (e: unknown) => e,
    );
    expect((error as EvlogError).code).toBe('conflict');
    expect((await store.readConsumerGroup('g'))?.checkpoint).toBe(1);
    expect((await store.readConsumerGroup('g'))?.leaseOwner).toBe('thief');
  });

  it('follows events appended after it caught up', async () => {
    const store = stores.open();
    await seed(store);
    const writer = stores.open({}, store.path);
    const controller = new AbortController();
    let caughtUp = 0;
    const handler = scriptedHandler();
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
      follow: true,
      signal: controller.signal,
      onReport: (report) => {
        if (report.kind !== 'caught-up') return;
        caughtUp++;
        if (caughtUp === 1) void writer.appendEvents([{ topic: 'orders', type: 'OrderPlaced', data: { n: 9 } }]);
        else controller.abort();
      },
    });
    expect(handler.deliveries.map(([p]) => p)).toEqual([1, 2, 4, 5, 6]);
    expect(summary).toMatchObject({ checkpoint: 6, stopped: 'signal' });
  });

  it('dead-letters an event its upcaster throws on, without a delivery, and goes on', async () => {
    const store = stores.open();
    await seed(store);
    const handler = scriptedHandler();
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: SETTINGS,
      deliver: handler.deliver,
      upcast: (record) => {
        if (record.position === 2) throw new Error('the upcaster of OrderPlaced 1→2 threw: no currency');
        return record;
      },
    });
    expect(handler.deliveries.map(([p]) => p)).toEqual([1, 4, 5]);
    expect(summary).toMatchObject({ events: 4, succeeded: 3, deadLettered: 1, checkpoint: 5 });
    const [entry] = await store.listDeadLetters({}, { limit: 5 });
    expect(entry).toMatchObject({ position: 2, reason: 'invalid', attempts: 0 });
    expect(entry?.error).toContain('no currency');
  });

  it("changes a group's settings only once it holds the lease: a refused process changes nothing", async () => {
    const store = stores.open();
    await seed(store);
    const holder = stores.open({}, store.path);
    await holder.saveConsumerGroup('g', 'orders', '{"exec":"true"}');
    await holder.acquireGroupLease('g', 'other-host:1:abc', 60_000);
    const handler = scriptedHandler();
    const refused = await runConsumer(store, {
      group: 'g',
      topic: 'payments',
      settings: { ...SETTINGS, handler: { exec: 'echo WRONG' } },
      deliver: handler.deliver,
    }).catch((error: unknown) => error);
    expect((refused as EvlogError).code).toBe('conflict');
    expect(await store.readConsumerGroup('g')).toMatchObject({ topic: 'orders', handlerJson: '{"exec":"true"}' });
    expect(handler.deliveries).toEqual([]);
  });

  it('leaves no abort listener behind while following', async () => {
    const store = stores.open();
    await seed(store);
    const writer = stores.open({}, store.path);
    const controller = new AbortController();
    let wakes = 0;
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      await runConsumer(store, {
        group: 'g',
        topic: 'orders',
        settings: SETTINGS,
        deliver: scriptedHandler().deliver,
        follow: true,
        signal: controller.signal,
        onReport: (report) => {
          if (report.kind !== 'caught-up') return;
          if (++wakes < 15) void writer.appendEvents([{ topic: 'orders', type: 'OrderPlaced', data: {} }]);
          else controller.abort();
        },
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(wakes).toBe(15);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('does not dead-letter an event whose last attempt failed while stopping', async () => {
    const store = stores.open();
    await seed(store);
    const controller = new AbortController();
    const handler = scriptedHandler((record) => {
      if (record.position !== 2) return { ok: true };
      // A service manager stops everything: the handler dies of the same SIGTERM.
      controller.abort();
      return { ok: false, reason: 'handler-failed', error: 'killed by SIGTERM' };
    });
    const summary = await runConsumer(store, {
      group: 'g',
      topic: 'orders',
      settings: { ...SETTINGS, maxAttempts: 1 },
      deliver: handler.deliver,
      signal: controller.signal,
    });
    expect(summary).toMatchObject({ checkpoint: 1, deadLettered: 0, stopped: 'signal' });
    expect(await store.countDeadLetters({})).toBe(0);
  });
});
