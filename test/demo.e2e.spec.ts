import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { it, readEvents, runEvlog, runEvlogIntoClosedPipe } from './support/run-evlog.js';

// The fixture's 80 events, plus the one order the tour appends.
const DEMO_EVENTS = 81;

describe.concurrent('evlog demo', () => {
  it('builds the sample store and prints the tour', async ({ tmp }) => {
    const db = join(tmp, 'demo.db');
    const result = await runEvlog(['demo', '--db', db]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    // Each step shows the command it runs, then what that command prints.
    expect(result.stdout).toContain('$ evlog append --batch');
    expect(result.stdout).toContain('$ evlog tail orders -n 5');
    expect(result.stdout).toMatch(/appended 80 events/);
    expect(result.stdout).toContain('order-2001');
    // The stale expectation is refused, and the tour shows why.
    expect(result.stdout).toMatch(/wrong expected version for orders\/order-2001/);
    // The schema steps: the data-aware check finds the tour's own order, and a bad event is refused.
    expect(result.stdout).toContain('rejects 1 of 16 stored OrderPlaced events');
    expect(result.stdout).toContain('InventoryReserved v1: the data breaks its schema (2 violations)');
    expect(result.stdout).toMatch(/order-status: 5\d events applied, checkpoint 8\d/);
    expect(result.stdout).toContain('"sku-mug-blue": {');
    // The consumer steps: three cancellations parked, then redriven once each.
    expect(result.stdout).toContain('notify: 19 events from orders (16 succeeded, 3 dead-lettered, 3 retries)');
    expect(result.stdout).toMatch(/^3 +notify +54 +OrderCancelled +handler-failed +2 /m);
    expect(result.stdout).toContain('3 redriven, 0 failed again');
    expect(result.stdout).toMatch(/dead letters: +0 parked/);
    expect(result.stdout).toContain(db);
    expect(result.stdout).not.toContain('\u001b[');
    const events = await readEvents(db);
    expect(events).toHaveLength(DEMO_EVENTS);
    expect(events.at(-1)).toMatchObject({ key: 'order-2001', type: 'OrderPlaced' });
  });

  it('rebuilds the store when run a second time', async ({ tmp }) => {
    const db = join(tmp, 'demo.db');
    const first = await runEvlog(['demo', '--db', db]);
    expect(first.code).toBe(0);
    const second = await runEvlog(['demo', '--db', db]);
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/appended 80 events/);
    const events = await readEvents(db);
    expect(events).toHaveLength(DEMO_EVENTS);
    expect(events.filter((e) => e.key === 'order-2001')).toHaveLength(1);
  });

  it('uses ./evlog-demo.db without --db', async ({ tmp }) => {
    const result = await runEvlog(['demo'], { cwd: tmp });
    expect(result.code).toBe(0);
    expect(existsSync(join(tmp, 'evlog-demo.db'))).toBe(true);
    expect(readdirSync(tmp)).not.toContain('evlog.db');
  });

  it('ends quietly (exit 0) when its output is closed early, as by `evlog demo | head`', async ({ tmp }) => {
    const result = await runEvlogIntoClosedPipe(['demo', '--db', join(tmp, 'demo.db')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
