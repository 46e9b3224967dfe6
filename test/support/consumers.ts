/**
 * Helpers for the `evlog consume` end-to-end tests: the handler fixtures, their delivery
 * log, and a look into the store (checkpoints, dead letters) through the library.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { type DeadLetter, openStore } from '../../src/store/index.js';
import { appendEvents, REPO_ROOT } from './run-evlog.js';

export const HANDLERS = join(REPO_ROOT, 'fixtures', 'handlers');
export const handler = (name: string) => join(HANDLERS, name);

/** One line of a handler's delivery log (`position attempt pid time`). */
export interface Delivery {
  position: number;
  attempt: number;
  pid: number;
  time: number;
}

export function readDeliveries(log: string): Delivery[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [position, attempt, pid, time] = line.split(' ').map(Number);
      return { position, attempt, pid, time } as Delivery;
    });
}

/** Polls the delivery log until it holds at least `count` lines. */
export async function waitForDeliveries(log: string, count: number, timeoutMs = 15_000): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const deliveries = readDeliveries(log);
    if (deliveries.length >= count) return deliveries;
    if (Date.now() > deadline) {
      throw new Error(`only ${deliveries.length} deliveries of ${count} after ${timeoutMs} ms`);
    }
    await sleep(10);
  }
}

/** Polls until `check` is true. */
export async function waitUntil(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Consecutive deliveries by one process: a run of `evlog consume`. */
export interface Run {
  pid: number;
  positions: number[];
}

export function runsOf(deliveries: readonly Delivery[]): Run[] {
  const runs: Run[] = [];
  for (const delivery of deliveries) {
    const last = runs.at(-1);
    if (last?.pid === delivery.pid) last.positions.push(delivery.position);
    else runs.push({ pid: delivery.pid, positions: [delivery.position] });
  }
  return runs;
}

/**
 * The at-least-once promise, read from the delivery log of handlers that succeed on positions
 * 1…last: each process delivered consecutive positions in order; each one started where the
 * previous one stopped, or went back at most `maxRedelivered` positions (events it delivered
 * again because their checkpoint was not written when it died); nothing skipped, and no process
 * seen twice (no two processes took turns, let alone delivered at the same time). Returns how
 * many positions each process delivered again.
 */
export function expectInOrderAtLeastOnce(deliveries: readonly Delivery[], last: number, maxRedelivered = 1): number[] {
  const runs = runsOf(deliveries);
  expect(new Set(runs.map((run) => run.pid)).size, 'processes that took turns more than once').toBe(runs.length);
  const redelivered: number[] = [];
  let next = 1;
  for (const [i, run] of runs.entries()) {
    const first = run.positions[0] as number;
    expect(run.positions, `run ${i + 1} (pid ${run.pid}) delivers consecutive positions`).toEqual(
      run.positions.map((_, j) => first + j),
    );
    expect(first, `run ${i + 1} (pid ${run.pid}) skips nothing`).toBeLessThanOrEqual(next);
    expect(next - first, `run ${i + 1} (pid ${run.pid}) delivers again`).toBeLessThanOrEqual(maxRedelivered);
    if (i > 0) redelivered.push(next - first);
    next = Math.max(next, (run.positions.at(-1) as number) + 1);
  }
  expect(next - 1, 'the last position delivered').toBe(last);
  return redelivered;
}

/** `count` events on topic `orders` (positions 1…count when the store is new). */
export function orders(count: number, from = 1): object[] {
  return Array.from({ length: count }, (_, i) => ({
    topic: 'orders',
    key: `order-${from + i}`,
    type: 'OrderPlaced',
    data: { n: from + i },
  }));
}

/** Appends `count` events on topic `orders`, in batches of at most 500 (one process each). */
export async function appendOrders(db: string, count: number, from = 1): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    await appendEvents(db, orders(Math.min(500, count - start), from + start));
  }
}

/** A look into the store through the library, as a Node service would. */
export async function inStore<T>(db: string, look: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const store = openStore(db, { create: false });
  try {
    return await look(store);
  } finally {
    store.close();
  }
}

export function checkpointOf(db: string, group: string): Promise<number | undefined> {
  return inStore(db, async (store) => (await store.readConsumerGroup(group))?.checkpoint);
}

export function deadLettersOf(db: string, group: string): Promise<DeadLetter[]> {
  return inStore(db, (store) => store.listDeadLetters({ group }, { limit: 1000 }));
}

/** True while a process with this pid exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
