import { describe, expect, it } from 'vitest';
import { EvlogError } from '../../errors.js';
import type { NewDeadLetter } from '../types.js';
import { manualClock, useTempStores } from './test-store.js';

function entry(overrides: Partial<NewDeadLetter> = {}): NewDeadLetter {
  return {
    source: 'consumer',
    group: 'mailer',
    position: 1,
    topic: 'orders',
    type: 'OrderPlaced',
    line: null,
    reason: 'handler-failed',
    error: 'smtp down',
    attempts: 3,
    ...overrides,
  };
}

describe('dead letters in the store', () => {
  const stores = useTempStores();

  it('parks entries with ids in order, first and last failure times, and status parked', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    const ids = await store.parkDeadLetters([entry(), entry({ position: 2, firstFailedAt: clock.now() - 500 })]);
    expect(ids).toEqual([1, 2]);
    const second = await store.readDeadLetter(2);
    expect(second).toEqual({
      id: 2,
      source: 'consumer',
      group: 'mailer',
      position: 2,
      topic: 'orders',
      type: 'OrderPlaced',
      line: null,
      lineDefaults: null,
      reason: 'handler-failed',
      error: 'smtp down',
      attempts: 3,
      status: 'parked',
      firstFailedAt: clock.now() - 500,
      lastFailedAt: clock.now(),
      history: [],
    });
    expect(await store.readDeadLetter(3)).toBeNull();
  });

  it('lists pages by id in either direction, with every filter', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    const entries: NewDeadLetter[] = [];
    for (let i = 1; i <= 25; i++) {
      entries.push(
        entry({
          position: i,
          group: i % 2 ? 'mailer' : 'billing',
          type: i % 5 === 0 ? 'PaymentFailed' : 'OrderPlaced',
          reason: i % 3 === 0 ? 'timeout' : 'handler-failed',
          error: i === 7 ? 'Connection REFUSED by host' : 'boom',
        }),
      );
    }
    await store.parkDeadLetters(entries);
    const first = await store.listDeadLetters({}, { limit: 10 });
    expect(first.map((e) => e.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const next = await store.listDeadLetters({}, { limit: 10, afterId: 10 });
    expect(next.map((e) => e.id)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const back = await store.listDeadLetters({}, { limit: 3, beforeId: 11 });
    expect(back.map((e) => e.id)).toEqual([10, 9, 8]);
    expect(
      (await store.listDeadLetters({ group: 'billing' }, { limit: 100 })).every((e) => e.group === 'billing'),
    ).toBe(true);
    expect(await store.countDeadLetters({ group: 'billing' })).toBe(12);
    expect((await store.listDeadLetters({ type: 'PaymentFailed' }, { limit: 100 })).map((e) => e.id)).toEqual([
      5, 10, 15, 20, 25,
    ]);
    expect(await store.countDeadLetters({ reason: 'timeout', group: 'mailer' })).toBe(4);
    expect((await store.listDeadLetters({ text: 'refused' }, { limit: 100 })).map((e) => e.id)).toEqual([7]);
    expect((await store.listDeadLetters({ ids: [3, 9, 99] }, { limit: 100 })).map((e) => e.id)).toEqual([3, 9]);
    expect(await store.countDeadLetters({ status: 'redriven' })).toBe(0);
    expect(await store.countDeadLetters({ maxId: 10, group: 'billing' })).toBe(5);
    expect(await store.countDeadLetters({ since: clock.now() + 1 })).toBe(0);
    expect(await store.countDeadLetters({ until: clock.now() })).toBe(25);
  });

  it('runs a redrive as claim then finish: one claimant at a time, failures raise the attempts', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    await store.parkDeadLetters([entry(), entry({ position: 2 })]);
    const claimed = await store.claimDeadLetters([1, 2], 'redrive-a', clock.now() + 60_000);
    expect(claimed.map((e) => e.id)).toEqual([1, 2]);
    // Another redrive, or a discard, leaves claimed entries alone.
    expect(await store.claimDeadLetters([1, 2], 'redrive-b', clock.now() + 60_000)).toEqual([]);
    expect(await store.discardDeadLetters([1])).toEqual([]);

    clock.advance(1000);
    await store.finishRedrive(1, 'redrive-a', { ok: true });
    await store.finishRedrive(2, 'redrive-a', { ok: false, error: 'still down', reason: 'timeout' });
    const one = await store.readDeadLetter(1);
    expect(one?.status).toBe('redriven');
    expect(one?.history).toEqual([{ at: clock.now(), action: 'redriven', error: null, position: null, note: null }]);
    const two = await store.readDeadLetter(2);
    expect(two).toMatchObject({ status: 'parked', attempts: 4, error: 'still down', reason: 'timeout' });
    expect(two?.lastFailedAt).toBe(clock.now());
    expect(two?.history).toEqual([
      { at: clock.now(), action: 'failed', error: 'still down', position: null, note: null },
    ]);

    // A finished entry cannot be finished twice, nor claimed again once redriven.
    await store.finishRedrive(1, 'redrive-a', { ok: false, error: 'late' });
    expect((await store.readDeadLetter(1))?.history).toHaveLength(1);
    expect(await store.claimDeadLetters([1], 'redrive-c', clock.now() + 1000)).toEqual([]);
    // The failed one is free for the next redrive.
    expect((await store.claimDeadLetters([2], 'redrive-c', clock.now() + 1000)).map((e) => e.id)).toEqual([2]);
  });

  it('frees a claim when it expires or is released', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    await store.parkDeadLetters([entry(), entry({ position: 2 })]);
    await store.claimDeadLetters([1, 2], 'dead-redrive', clock.now() + 1000);
    clock.advance(1001);
    expect((await store.claimDeadLetters([1], 'next', clock.now() + 1000)).map((e) => e.id)).toEqual([1]);
    // The expired claimant's late finish is ignored.
    await store.finishRedrive(1, 'dead-redrive', { ok: true });
    expect((await store.readDeadLetter(1))?.status).toBe('parked');
    await store.releaseDeadLetterClaims([1], 'next');
    expect(await store.discardDeadLetters([1, 2])).toEqual([1, 2]);
  });

  it('discards parked entries once, keeping them with a history line', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    await store.parkDeadLetters([entry(), entry({ position: 2 })]);
    expect(await store.discardDeadLetters([1])).toEqual([1]);
    expect(await store.discardDeadLetters([1])).toEqual([]);
    const one = await store.readDeadLetter(1);
    expect(one?.status).toBe('discarded');
    expect(one?.history).toEqual([{ at: clock.now(), action: 'discarded', error: null, position: null, note: null }]);
    expect(await store.claimDeadLetters([1], 'r', clock.now() + 1000)).toEqual([]);
  });

  it('appends a redriven batch line and records it in one transaction', async () => {
    const store = stores.open();
    await store.parkDeadLetters([entry({ source: 'append', group: 'append', position: null, line: '{"x":1}' })]);
    await store.claimDeadLetters([1], 'r', Date.now() + 60_000);
    const results = await store.finishRedrive(1, 'r', { ok: true }, [
      { topic: 'orders', type: 'OrderPlaced', data: { x: 1 } },
    ]);
    expect(results.map((r) => r.position)).toEqual([1]);
    expect((await store.readDeadLetter(1))?.history[0]?.position).toBe(1);
    // Without the claim nothing is appended.
    await store.parkDeadLetters([entry({ source: 'append', group: 'append', position: null, line: '{"x":2}' })]);
    await expect(
      store.finishRedrive(2, 'r', { ok: true }, [{ topic: 'orders', type: 'OrderPlaced', data: { x: 2 } }]),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect((await store.head()).position).toBe(1);
  });

  it('parks the bad lines of a batch in the batch transaction', async () => {
    const store = stores.open();
    const results = await store.appendEvents([{ topic: 'orders', type: 'OrderPlaced', data: {} }], {
      deadLetters: [entry({ source: 'append', group: 'append', position: null, line: 'nope', reason: 'invalid' })],
    });
    expect(results).toHaveLength(1);
    expect(await store.countDeadLetters({ source: 'append' })).toBe(1);
    // A batch that fails parks nothing.
    await expect(
      store.appendEvents([{ topic: 'orders', type: 'OrderPlaced', data: {}, expect: 5 }], {
        deadLetters: [entry({ source: 'append', group: 'append', position: null, line: 'x', reason: 'invalid' })],
      }),
    ).rejects.toBeInstanceOf(EvlogError);
    expect(await store.countDeadLetters({ source: 'append' })).toBe(1);
  });
});

describe('consumer groups in the store', () => {
  const stores = useTempStores();

  it('remembers a group, replaces its handler, and refuses another topic once it has a checkpoint', async () => {
    const store = stores.open();
    const group = await store.saveConsumerGroup('mailer', 'orders', '{"exec":"true"}');
    expect(group).toMatchObject({ name: 'mailer', topic: 'orders', handlerJson: '{"exec":"true"}', checkpoint: 0 });
    expect((await store.saveConsumerGroup('mailer', 'orders', null)).handlerJson).toBe('{"exec":"true"}');
    expect((await store.saveConsumerGroup('mailer', 'orders', '{"exec":"false"}')).handlerJson).toBe(
      '{"exec":"false"}',
    );
    await expect(store.saveConsumerGroup('nobody', 'orders', null)).rejects.toMatchObject({ code: 'not_found' });
    await store.acquireGroupLease('mailer', 'me', 10_000);
    await store.commitConsumerCheckpoint('mailer', 'me', 3);
    await expect(store.saveConsumerGroup('mailer', 'payments', null)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('lets one owner hold the lease until it expires, is released, or its holder is known dead', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    await store.saveConsumerGroup('mailer', 'orders', '{}');
    expect((await store.acquireGroupLease('mailer', 'a', 10_000)).acquired).toBe(true);
    expect(await store.acquireGroupLease('mailer', 'b', 10_000)).toEqual({
      acquired: false,
      holder: 'a',
      expiresAt: clock.now() + 10_000,
    });
    expect((await store.acquireGroupLease('mailer', 'b', 10_000, 'a')).acquired).toBe(true);
    expect(await store.renewGroupLease('mailer', 'a', 10_000)).toBe(false);
    clock.advance(10_001);
    expect((await store.acquireGroupLease('mailer', 'c', 10_000)).acquired).toBe(true);
    await store.releaseGroupLease('mailer', 'b'); // not b's: no-op
    expect((await store.acquireGroupLease('mailer', 'a', 10_000)).acquired).toBe(false);
    await store.releaseGroupLease('mailer', 'c');
    expect((await store.acquireGroupLease('mailer', 'a', 10_000)).acquired).toBe(true);
    await expect(store.acquireGroupLease('nope', 'a', 1)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('moves the checkpoint only for the lease holder, parking a dead letter with it', async () => {
    const store = stores.open();
    await store.appendEvents([1, 2, 3].map((n) => ({ topic: 'orders', type: 'OrderPlaced', data: { n } })));
    await store.appendEvents([{ topic: 'payments', type: 'PaymentFailed', data: {} }]);
    await store.saveConsumerGroup('mailer', 'orders', '{}');
    await store.acquireGroupLease('mailer', 'a', 10_000);
    await store.commitConsumerCheckpoint('mailer', 'a', 1);
    await store.commitConsumerCheckpoint('mailer', 'a', 2, {
      deadLetter: entry({ position: 2 }),
    });
    // Repeating a commit does not park twice or move back.
    await store.commitConsumerCheckpoint('mailer', 'a', 2, { deadLetter: entry({ position: 2 }) });
    await store.commitConsumerCheckpoint('mailer', 'a', 1);
    const [summary] = await store.listConsumerGroups();
    expect(summary).toMatchObject({ name: 'mailer', checkpoint: 2, lag: 1, parked: 1, leaseOwner: 'a' });

    await store.acquireGroupLease('mailer', 'b', 10_000, 'a');
    await expect(store.commitConsumerCheckpoint('mailer', 'a', 3)).rejects.toMatchObject({ code: 'conflict' });
    expect((await store.readConsumerGroup('mailer'))?.checkpoint).toBe(2);
  });
});

describe('a projection redrive in the store', () => {
  const stores = useTempStores();

  it('writes the state and marks the entry redriven in one transaction, without moving the checkpoint', async () => {
    const clock = manualClock();
    const store = stores.open({ clock: clock.now });
    const record = await store.createProjection('totals', 1);
    await store.commitProjection({
      name: 'totals',
      generation: record.generation,
      rebuild: false,
      from: 0,
      to: 5,
      states: [['a', '1']],
    });
    const [id] = await store.parkDeadLetters([entry({ source: 'projection', group: 'totals', position: 3 })]);
    const redrive = { id: id as number, owner: 'r', quietForMs: 30_000 };
    const commit = {
      name: 'totals',
      generation: record.generation,
      rebuild: false,
      from: 0,
      to: 0,
      states: [['a', '2']] as [string, string][],
      redrive,
    };
    // Not claimed: refused, nothing written.
    await expect(store.commitProjection(commit)).rejects.toMatchObject({ code: 'conflict' });
    expect(await store.readProjectionStates('totals')).toEqual([['a', '1']]);
    await store.claimDeadLetters([id as number], 'r', clock.now() + 60_000);
    // A runner reported in a moment ago: refused.
    await store.setProjectionStatus('totals', 'running');
    await expect(store.commitProjection(commit)).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('being run by another process'),
    });
    clock.advance(30_001);
    await store.commitProjection(commit);
    expect(await store.readProjectionStates('totals')).toEqual([['a', '2']]);
    expect((await store.readProjection('totals'))?.checkpoint).toBe(5);
    expect((await store.readDeadLetter(id as number))?.status).toBe('redriven');
    // Finished: a second commit of the same redrive is refused.
    await expect(store.commitProjection({ ...commit, states: [['a', '3']] })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(await store.readProjectionStates('totals')).toEqual([['a', '2']]);
  });
});
