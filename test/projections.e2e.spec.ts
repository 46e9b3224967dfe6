import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { openStore } from '../src/store/index.js';
import { it, runEvlogOk as ok, parseLines, REPO_ROOT, runEvlog, SHOP_EVENTS, startEvlog } from './support/run-evlog.js';

const SHOP_CONFIG = join(REPO_ROOT, 'fixtures', 'shop', 'evlog.config.mjs');
const START = Date.UTC(2026, 10, 1, 9, 0, 0);

/** The shop events with recorded times one minute apart, imported into `db`. */
async function importTimedShop(tmp: string, db: string): Promise<void> {
  const lines = readFileSync(SHOP_EVENTS, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => JSON.stringify({ ...JSON.parse(line), time: new Date(START + i * 60_000).toISOString() }));
  writeFileSync(join(tmp, 'timed.ndjson'), `${lines.join('\n')}\n`);
  await ok(['import', join(tmp, 'timed.ndjson'), '--db', db, '-q']);
}

/** A config in `tmp` with the given projection source text(s). */
function writeConfig(tmp: string, projections: string): string {
  const path = join(tmp, 'evlog.config.mjs');
  writeFileSync(path, `export default { projections: [${projections}] };\n`);
  return path;
}

const COUNT_ORDERS = (version = 1, step = 1) =>
  `{ name: 'count', version: ${version}, topics: ['orders'], initialState: () => ({ count: 0, last: 0 }),
     evolve: (state, event) => ({ count: state.count + ${step}, last: event.position }) }`;

describe.concurrent('evlog projection', () => {
  it('runs the shop projections, then lists, gets and reports them', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    const config = ['--config', SHOP_CONFIG, '--db', db];
    const run = await ok(['projection', 'run', ...config, '--json']);
    expect(parseLines(run.stdout)).toEqual([
      { name: 'order-totals', from: 0, to: 80, events: 15, seconds: expect.any(Number) },
      { name: 'stock', from: 0, to: 80, events: 29, seconds: expect.any(Number) },
      { name: 'order-status', from: 0, to: 80, events: 51, seconds: expect.any(Number) },
    ]);
    const status = parseLines((await ok(['projection', 'status', ...config, '--json'])).stdout);
    expect(status.map((s) => [s.name, s.status, s.checkpoint, s.lag])).toEqual([
      ['order-status', 'idle', 80, 0],
      ['order-totals', 'idle', 80, 0],
      ['stock', 'idle', 80, 0],
    ]);
    const one = await ok(['projection', 'get', 'order-status', 'order-1001', ...config, '--json']);
    expect(JSON.parse(one.stdout)).toEqual({ carrier: 'DHL', paymentAttempts: 1, status: 'delivered', total: 33.25 });
    // get without a key prints what replay to the head prints.
    const all = await ok(['projection', 'get', 'order-totals', ...config]);
    const replayed = await ok(['replay', '--projection', 'order-totals', ...config]);
    expect(all.stdout).toBe(replayed.stdout);
    // After more events, the lag shows until the next run.
    await ok([
      'append',
      'orders',
      '{"orderId":"order-9","customer":{"id":"cust-9"},"total":1}',
      '-t',
      'OrderPlaced',
      '-k',
      'order-9',
      '--db',
      db,
    ]);
    const lagging = parseLines((await ok(['projection', 'status', 'order-totals', ...config, '--json'])).stdout);
    expect(lagging[0]).toMatchObject({ checkpoint: 80, head: 81, lag: 1 });
    const missing = await runEvlog(['projection', 'get', 'order-totals', 'cust-404', ...config]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('projection "order-totals" has no state for key "cust-404"');
  });

  it('names unknown projections and read models that do not exist yet (exit 5)', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    const unknown = await runEvlog(['projection', 'run', 'totals', '--config', SHOP_CONFIG, '--db', db]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain('no projection "totals" in');
    expect(unknown.stderr).toContain('projections: order-totals, stock, order-status');
    const notRun = await runEvlog(['projection', 'get', 'stock', '--config', SHOP_CONFIG, '--db', db]);
    expect(notRun.code).toBe(5);
    expect(notRun.stderr).toContain('evlog projection run stock');
  });

  it('marks a projection whose version was bumped stale; run refuses (exit 4) until a rebuild', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    writeConfig(tmp, COUNT_ORDERS(1));
    await ok(['projection', 'run', '--db', db], { cwd: tmp });
    writeConfig(tmp, COUNT_ORDERS(2, 10));
    const refused = await runEvlog(['projection', 'run', '--db', db], { cwd: tmp });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('projection "count" is stale: its read model was built by version 1');
    const [status] = parseLines((await ok(['projection', 'status', '--json', '--db', db], { cwd: tmp })).stdout);
    expect(status).toMatchObject({ name: 'count', status: 'stale', version: 2, storedVersion: 1 });
    await ok(['projection', 'rebuild', 'count', '--db', db], { cwd: tmp });
    const state = JSON.parse((await ok(['projection', 'get', 'count', '--db', db, '--json'], { cwd: tmp })).stdout);
    expect(state.count).toBe(180);
  });

  it('marks a projection whose reducer throws failed, with the error and position, and resumes there', async ({
    tmp,
    db,
  }) => {
    await importTimedShop(tmp, db);
    const failing = `{ name: 'picky', version: 1, topics: ['orders'], initialState: () => 0,
      evolve: (n, event) => { if (event.key === 'order-1003') throw new Error('no 1003'); return n + 1; } }`;
    writeConfig(tmp, failing);
    const run = await runEvlog(['projection', 'run', '--db', db], { cwd: tmp });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/projection "picky" failed on the event at position (\d+) \(OrderPlaced\): no 1003/);
    const position = Number(/position (\d+)/.exec(run.stderr)?.[1]);
    const [status] = parseLines(
      (await ok(['projection', 'status', 'picky', '--json', '--db', db], { cwd: tmp })).stdout,
    );
    expect(status).toMatchObject({
      status: 'failed',
      checkpoint: position - 1,
      lastError: { message: 'no 1003', position },
    });
    writeConfig(tmp, failing.replace("event.key === 'order-1003'", 'false'));
    await ok(['projection', 'run', '--db', db], { cwd: tmp });
    const fixed = parseLines((await ok(['projection', 'status', '--json', '--db', db], { cwd: tmp })).stdout);
    expect(fixed[0]).toMatchObject({ status: 'idle', checkpoint: 80, lastError: null });
    expect(JSON.parse((await ok(['projection', 'get', 'picky', '--db', db], { cwd: tmp })).stdout)).toBe(18);
  });
});

describe('evlog projection run --follow', () => {
  it('keeps a projection current as other processes append', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    writeConfig(tmp, COUNT_ORDERS(1));
    const following = startEvlog(['projection', 'run', '-f', '--db', db], { cwd: tmp });
    try {
      await following.waitForLines(1);
      expect(following.stdout()).toContain('count: 18 events applied, checkpoint 80');
      await ok(['append', 'orders', '{"n":1}', '-t', 'OrderPlaced', '-k', 'order-x', '--db', db]);
      await following.waitForLines(2);
      expect(following.stdout()).toContain('count: 19 events applied, checkpoint 81');
      const [status] = parseLines((await ok(['projection', 'status', '--json', '--db', db], { cwd: tmp })).stdout);
      expect(status).toMatchObject({ status: 'running', checkpoint: 81, lag: 0 });
    } finally {
      following.child.kill('SIGTERM');
      await following.result;
    }
    expect(JSON.parse((await ok(['projection', 'get', 'count', '--db', db], { cwd: tmp })).stdout).count).toBe(19);
  });

  it('follows the new read model when a rebuild swaps it in', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    writeConfig(tmp, COUNT_ORDERS(1));
    const following = startEvlog(['projection', 'run', '-f', '--db', db], { cwd: tmp });
    try {
      await following.waitForLines(1);
      await ok(['projection', 'rebuild', 'count', '--db', db, '-q'], { cwd: tmp });
      await ok(['append', 'orders', '{"n":1}', '-t', 'OrderPlaced', '-k', 'order-x', '--db', db]);
      await following.waitForLines(2);
      expect(following.stdout()).toContain('count: 1 events applied, checkpoint 81');
    } finally {
      following.child.kill('SIGTERM');
      await following.result;
    }
    expect(JSON.parse((await ok(['projection', 'get', 'count', '--db', db], { cwd: tmp })).stdout).count).toBe(19);
  });
});

describe.concurrent('evlog projection run, several at once', () => {
  it('runs the others when one is stale, then exits 4', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    const other = `{ name: 'other', version: 1, initialState: () => 0, evolve: (n) => n + 1 }`;
    writeConfig(tmp, COUNT_ORDERS(1));
    await ok(['projection', 'run', '--db', db], { cwd: tmp });
    writeConfig(tmp, `${COUNT_ORDERS(2)}, ${other}`);
    const result = await runEvlog(['projection', 'run', '--db', db], { cwd: tmp });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('projection "count" is stale');
    expect(JSON.parse((await ok(['projection', 'get', 'other', '--db', db], { cwd: tmp })).stdout)).toBe(80);
  });

  it('runs a projection named twice once', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    writeConfig(tmp, COUNT_ORDERS(1));
    const result = await ok(['projection', 'run', 'count', 'count', '--db', db], { cwd: tmp });
    expect(result.stdout).toBe(`${result.stdout.split('\n')[0]}\n`);
    expect(JSON.parse((await ok(['projection', 'get', 'count', '--db', db], { cwd: tmp })).stdout).count).toBe(18);
  });
});

describe.concurrent('evlog replay --expect', () => {
  it('folds from scratch: snapshots written by older reducer code cannot hide a change', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    const counter = (step: number) =>
      `{ name: 'count', version: 1, snapshotEvery: 1, initialState: () => 0, evolve: (n) => n + ${step} }`;
    writeConfig(tmp, counter(1));
    await ok(['projection', 'run', '--db', db], { cwd: tmp });
    writeFileSync(join(tmp, 'expected.json'), '80\n');
    await ok(['replay', '--projection', 'count', '--expect', 'expected.json', '--db', db], { cwd: tmp });
    // The reducer changes without a version bump: the stored snapshots are now wrong.
    writeConfig(tmp, counter(10));
    const result = await runEvlog(['replay', '--projection', 'count', '--expect', 'expected.json', '--db', db], {
      cwd: tmp,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('expected 80, got 800');
  });

  it('exits 2, not 1, when the expected file cannot be read', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    writeConfig(tmp, COUNT_ORDERS(1));
    const result = await runEvlog(['replay', '--projection', 'count', '--expect', tmp, '--db', db], { cwd: tmp });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--expect: cannot read');
  });
});

describe.concurrent('evlog replay', () => {
  it('prints the same sorted state every time, and by time the same as by the equivalent position', async ({
    tmp,
    db,
  }) => {
    await importTimedShop(tmp, db);
    const replay = (until: string) =>
      ok(['replay', '--projection', 'stock', '--until', until, '--config', SHOP_CONFIG, '--db', db]);
    const first = await replay('2');
    const again = await replay('2');
    expect(again.stdout).toBe(first.stdout);
    const keys = Object.keys(JSON.parse(first.stdout));
    expect(keys).toEqual([...keys].sort());
    // Event 2 (an InventoryReserved) was recorded at START + 1 minute; 30 s later is still position 2.
    const byTime = await replay(new Date(START + 60_000 + 30_000).toISOString());
    expect(byTime.stdout).toBe(first.stdout);
    // Event 3 reserves another product.
    expect((await replay(new Date(START + 2 * 60_000).toISOString())).stdout).toBe((await replay('3')).stdout);
    expect((await replay('3')).stdout).not.toBe(first.stdout);
  });

  it('--expect exits 0 when the state matches and 1 with a diff of paths and values when it does not', async ({
    tmp,
    db,
  }) => {
    await importTimedShop(tmp, db);
    const args = ['replay', '--projection', 'order-totals', '--until', '30', '--config', SHOP_CONFIG, '--db', db];
    const expectedFile = join(tmp, 'expected.json');
    writeFileSync(expectedFile, (await ok(args)).stdout);
    const same = await runEvlog([...args, '--expect', expectedFile]);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe('');
    expect(same.stderr).toContain(`projection "order-totals" at position 30 matches ${expectedFile}`);
    const expected = JSON.parse(readFileSync(expectedFile, 'utf8'));
    expected['cust-001'].total = 1;
    delete expected['cust-002'];
    writeFileSync(expectedFile, JSON.stringify(expected));
    const differs = await runEvlog([...args, '--expect', expectedFile]);
    expect(differs.code).toBe(1);
    expect(differs.stderr).toContain(
      `projection "order-totals" at position 30 differs from ${expectedFile} in 2 places:`,
    );
    expect(differs.stderr).toContain('  cust-001.total: expected 1, got 48.22');
    expect(differs.stderr).toMatch(/ {2}cust-002: expected \(absent\), got \{"channels"/);
  });

  it('without --projection prints the events up to the point, as tail does', async ({ tmp, db }) => {
    await importTimedShop(tmp, db);
    const replayed = await ok(['replay', '--topic', 'orders', '--until', '20', '--json', '--db', db]);
    const tailed = await ok(['tail', 'orders', '--from', 'beginning', '--until', '20', '--json', '--db', db]);
    expect(replayed.stdout).toBe(tailed.stdout);
    expect(parseLines(replayed.stdout).length).toBeGreaterThan(2);
    const usage = await runEvlog(['replay', '--topic', 'orders', '--stream', 'orders/order-1', '--db', db]);
    expect(usage.code).toBe(2);
    const badUntil = await runEvlog(['replay', '--until', 'yesterday', '--db', db]);
    expect(badUntil.code).toBe(2);
    expect(badUntil.stderr).toContain('--until: "yesterday" is neither a position nor an ISO-8601 time');
  });

  it('runs the fixture replays as a CI step would (npm run check:replays)', async () => {
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'check-replays.mjs')], { encoding: 'utf8' });
    expect(result.stdout).toContain('all 7 replays match their expected states');
    expect(result.status).toBe(0);
  });
});

/** A store of `orders` events (every other event) built in-process, for the kill tests. */
async function buildLargeStore(db: string, events: number): Promise<number> {
  const store = openStore(db);
  let orders = 0;
  try {
    for (let start = 0; start < events; start += 10_000) {
      const batch = [];
      for (let i = start; i < Math.min(events, start + 10_000); i++) {
        const topic = i % 2 === 0 ? 'orders' : 'payments';
        if (topic === 'orders') orders++;
        batch.push({ topic, key: `order-${i % 1000}`, type: 'Event', data: { i } });
      }
      await store.appendEvents(batch);
    }
  } finally {
    store.close();
  }
  return orders;
}

function readRecord(db: string) {
  const store = openStore(db, { create: false });
  return store
    .readProjection('count')
    .then(async (record) => ({ record, states: await store.readProjectionStates('count') }))
    .finally(() => store.close());
}

/** Polls until `ready` says so, then SIGKILLs the process. */
async function killWhen(
  running: ReturnType<typeof startEvlog>,
  db: string,
  ready: (record: Awaited<ReturnType<typeof readRecord>>) => boolean,
) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const seen = await readRecord(db).catch(() => undefined);
    if (seen && ready(seen)) {
      running.child.kill('SIGKILL');
      const result = await running.result;
      return result;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the process never got there');
}

describe('a killed process', () => {
  it('during run: every event up to the checkpoint applied exactly once; the next run finishes the job', async ({
    tmp,
    db,
  }) => {
    const total = 200_000;
    const orders = await buildLargeStore(db, total);
    writeConfig(tmp, COUNT_ORDERS(1));
    const running = startEvlog(['projection', 'run', '--batch-size', '200', '--db', db], { cwd: tmp });
    const killed = await killWhen(running, db, ({ record }) => (record?.checkpoint ?? 0) > 20_000);
    expect(killed.code).toBeNull();
    const { record, states } = await readRecord(db);
    const checkpoint = record?.checkpoint ?? 0;
    expect(checkpoint).toBeLessThan(total);
    const state = JSON.parse(states[0]?.[1] ?? '{}');
    // Orders are the odd positions: as many as there are odd numbers up to the checkpoint.
    expect(state.count).toBe(Math.ceil(checkpoint / 2));
    expect(state.last).toBeLessThanOrEqual(checkpoint);
    await ok(['projection', 'run', '--db', db], { cwd: tmp });
    expect(JSON.parse((await ok(['projection', 'get', 'count', '--db', db], { cwd: tmp })).stdout)).toEqual({
      count: orders,
      last: total - 1,
    });
  });

  it('during rebuild: readers keep the old read model, and it stays intact', async ({ tmp, db }) => {
    const total = 200_000;
    const orders = await buildLargeStore(db, total);
    writeConfig(tmp, COUNT_ORDERS(1));
    await ok(['projection', 'run', '--db', db], { cwd: tmp });
    const before = await readRecord(db);
    writeConfig(tmp, COUNT_ORDERS(2, 10));
    const running = startEvlog(['projection', 'rebuild', 'count', '--batch-size', '200', '--db', db], { cwd: tmp });
    await killWhen(running, db, ({ record }) => (record?.rebuild?.checkpoint ?? 0) > 20_000);
    const after = await readRecord(db);
    expect(after.states).toEqual(before.states);
    expect(after.record).toMatchObject({ version: 1, checkpoint: total, generation: before.record?.generation });
    const get = await runEvlog(['projection', 'get', 'count', '--db', db], { cwd: tmp });
    expect(JSON.parse(get.stdout)).toEqual({ count: orders, last: total - 1 });
    await ok(['projection', 'rebuild', 'count', '--db', db], { cwd: tmp });
    expect(JSON.parse((await ok(['projection', 'get', 'count', '--db', db], { cwd: tmp })).stdout)).toEqual({
      count: orders * 10,
      last: total - 1,
    });
  });
});
