import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { settingsToJson } from '../src/consumers/handler.js';
import { type NewDeadLetter, openStore } from '../src/store/index.js';
import {
  it,
  runEvlogOk as ok,
  parseLines,
  readEvents,
  runEvlog,
  startEvlog,
  toNdjson,
  useSharedStore,
} from './support/run-evlog.js';

const LIST_FIELDS = [
  'id',
  'group',
  'position',
  'type',
  'reason',
  'error',
  'attempts',
  'status',
  'firstFailedAt',
  'lastFailedAt',
];

/**
 * A store with `count` orders and a consumer group "mailer" whose module handler logs each
 * delivery (position, attempt, pid) and fails while the flag file `broken` exists, after
 * sleeping `delayMs` (so that two redrives overlap).
 */
function mailerStore(tmp: string, db: string, count: number, delayMs = 0) {
  const log = join(tmp, 'deliveries.log');
  const flag = join(tmp, 'broken');
  const handler = join(tmp, 'mailer.mjs');
  writeFileSync(
    handler,
    `import { appendFileSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default async function (event, context) {
  await sleep(${delayMs});
  appendFileSync(${JSON.stringify(log)}, JSON.stringify({ position: event.position, attempt: context.attempt, pid: process.pid }) + '\\n');
  if (existsSync(${JSON.stringify(flag)})) throw new Error('smtp down');
}
`,
  );
  const store = openStore(db);
  return {
    log,
    flag,
    async park(positions: number[]): Promise<number[]> {
      await store.appendEvents(
        Array.from({ length: count }, (_, i) => ({
          topic: 'orders',
          key: `order-${i + 1}`,
          type: 'OrderPlaced',
          data: { n: i + 1 },
        })),
      );
      await store.saveConsumerGroup(
        'mailer',
        'orders',
        settingsToJson({ handler: { module: handler }, maxAttempts: 3, backoffMs: 0, timeoutMs: 10_000 }),
      );
      const entries: NewDeadLetter[] = positions.map((position) => ({
        source: 'consumer',
        group: 'mailer',
        position,
        topic: 'orders',
        type: 'OrderPlaced',
        line: null,
        reason: 'handler-failed',
        error: `Error: smtp down\n    at handler (${handler}:5:3)`,
        attempts: 3,
      }));
      const ids = await store.parkDeadLetters(entries);
      store.close();
      return ids;
    },
    deliveries(): { position: number; attempt: number; pid: number }[] {
      if (!existsSync(log)) return [];
      return parseLines(readFileSync(log, 'utf8'));
    },
  };
}

/** Exactly one `evlog:` line, then a hint line. */
function expectOneError(stderr: string, message: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines.filter((line) => line.startsWith('evlog: '))).toEqual([expect.stringContaining(message)]);
  expect(lines.at(-1)).toMatch(/^hint: /);
}

describe.concurrent('evlog dlq with a consumer group', () => {
  it('lists, shows, redrives (failed again, then redriven once fixed, then skipped) and discards', async ({
    tmp,
    db,
  }) => {
    const mailer = mailerStore(tmp, db, 5);
    const ids = await mailer.park([2, 4, 5]);
    expect(ids).toEqual([1, 2, 3]);

    const table = await ok(['dlq', 'list', '--db', db]);
    const [head, first] = table.stdout.split('\n');
    expect(head).toMatch(/^ID\s+GROUP\s+POSITION\s+TYPE\s+REASON\s+ATTEMPTS\s+AGE\s+ERROR$/);
    expect(first).toMatch(/^1\s+mailer\s+2\s+OrderPlaced\s+handler-failed\s+3\s+\d+s\s+Error: smtp down$/);

    const json = parseLines((await ok(['dlq', 'list', '--db', db, '--json'])).stdout);
    expect(json).toHaveLength(3);
    for (const line of json) expect(Object.keys(line)).toEqual(LIST_FIELDS);
    expect(json[0]).toMatchObject({ id: 1, group: 'mailer', position: 2, status: 'parked', attempts: 3 });
    expect(json[0]?.firstFailedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const shown = await ok(['dlq', 'show', '2', '--db', db]);
    expect(shown.stdout).toContain('status:       parked');
    expect(shown.stdout).toContain('input:        position 4, OrderPlaced in orders');
    expect(shown.stdout).toContain(`    at handler (${join(tmp, 'mailer.mjs')}:5:3)`);
    expect(shown.stdout).toContain('"key": "order-4"');
    const document = JSON.parse((await ok(['dlq', 'show', '2', '--db', db, '--json'])).stdout);
    expect(document).toMatchObject({ id: 2, event: { position: 4, data: { n: 4 } }, history: [] });

    writeFileSync(mailer.flag, '');
    const failed = await runEvlog(['dlq', 'redrive', '1', '2', '--db', db, '--json']);
    expect(failed.code).toBe(1);
    expect(parseLines(failed.stdout)).toEqual([
      { id: 1, outcome: 'failed', error: expect.stringContaining('smtp down') },
      { id: 2, outcome: 'failed', error: expect.stringContaining('smtp down') },
    ]);
    expect(failed.stderr).toContain('evlog: 2 dead letters failed again');
    expect(mailer.deliveries().map((d) => [d.position, d.attempt])).toEqual([
      [2, 4],
      [4, 4],
    ]);

    rmSync(mailer.flag);
    const fixed = await ok(['dlq', 'redrive', '1', '2', '--db', db]);
    expect(fixed.stdout).toBe('redriven 1\nredriven 2\n');
    expect(fixed.stderr).toBe('2 redriven, 0 failed again\n');
    const again = await ok(['dlq', 'redrive', '1', '2', '--db', db, '--json']);
    expect(again.stdout).toBe('');
    expect(again.stderr).toBe('skipped 1: already redriven\nskipped 2: already redriven\n');
    expect(mailer.deliveries()).toHaveLength(4);

    const history = JSON.parse((await ok(['dlq', 'show', '1', '--db', db, '--json'])).stdout);
    expect(history.history.map((h: { action: string }) => h.action)).toEqual(['failed', 'redriven']);
    expect(history).toMatchObject({ status: 'redriven', attempts: 4 });

    const discarded = await ok(['dlq', 'discard', '1', '3', '--db', db]);
    expect(discarded.stdout).toBe('discarded 3\n');
    expect(discarded.stderr).toBe('skipped 1: already redriven\n1 discarded, 1 skipped\n');
    const kept = parseLines((await ok(['dlq', 'list', '--status', 'discarded', '--db', db, '--json'])).stdout);
    expect(kept.map((e) => [e.id, e.position, e.status])).toEqual([[3, 5, 'discarded']]);
    expect((await ok(['dlq', 'list', '--db', db])).stderr).toBe('no parked dead letters\n');
    expect(mailer.deliveries()).toHaveLength(4);
  });

  it('redrives --all with filters after --yes, and --dry-run changes nothing', async ({ tmp, db }) => {
    const mailer = mailerStore(tmp, db, 6);
    await mailer.park([1, 2, 3, 4, 5, 6]);
    const noTty = await runEvlog(['dlq', 'redrive', '--all', '--db', db]);
    expect(noTty.code).toBe(2);
    expectOneError(noTty.stderr, 'redrive --all would change 6 parked dead letters, and there is no terminal');
    const plan = await ok(['dlq', 'redrive', '--all', '--dry-run', '--db', db]);
    expect(plan.stdout.split('\n').filter(Boolean)).toHaveLength(6);
    expect(plan.stdout).toContain('would redrive 1: mailer position 1 OrderPlaced');
    expect(plan.stderr).toContain('dry run: 6 entries would be redriven; nothing changed');
    expect(mailer.deliveries()).toEqual([]);

    const all = await ok(['dlq', 'redrive', '--all', '--yes', '--group', 'mailer', '--json', '--db', db]);
    expect(parseLines(all.stdout).map((o) => o.outcome)).toEqual(Array(6).fill('redriven'));
    expect(mailer.deliveries().map((d) => d.position)).toEqual([1, 2, 3, 4, 5, 6]);
    const none = await ok(['dlq', 'redrive', '--all', '--yes', '--db', db]);
    expect(none.stderr).toBe('no parked dead letters\n');
    expect(mailer.deliveries()).toHaveLength(6);
  });

  it('delivers each entry once when two redrives of the same entries run at once, in two processes', async ({
    tmp,
    db,
  }) => {
    const mailer = mailerStore(tmp, db, 30, 80);
    await mailer.park(Array.from({ length: 30 }, (_, i) => i + 1));
    const args = ['dlq', 'redrive', '--all', '--yes', '--json', '--db', db];
    const [a, b] = await Promise.all([startEvlog(args).result, startEvlog(args).result]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const redriven = [...parseLines(a.stdout), ...parseLines(b.stdout)].map((o) => o.id as number);
    expect(redriven.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const delivered = mailer.deliveries();
    expect(delivered.map((d) => d.position).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // Both did part of the work: each delivery takes 80 ms, so 30 of them outlast the second start.
    expect(new Set(delivered.map((d) => d.pid)).size).toBe(2);
  });
});

describe.concurrent('evlog dlq with batch lines and projections', () => {
  it('parks the bad lines of append --batch with the good ones, then appends them once their schema allows it', async ({
    tmp,
    db,
  }) => {
    const strict = join(tmp, 'refund.json');
    writeFileSync(
      strict,
      JSON.stringify({ type: 'object', properties: { amount: { type: 'number' } }, required: ['amount'] }),
    );
    await ok(['schema', 'register', 'Refund', strict, '--db', db]);
    const input = toNdjson([
      { type: 'Refund', key: 'order-1', data: { amount: 5 } },
      { type: 'Refund', key: 'order-2', data: { amount: '7.50' } },
      { type: 'Refund', key: 'order-3', data: {} },
    ]);
    const appended = await ok(['append', 'payments', '--batch', '--on-invalid', 'dead-letter', '--db', db], {
      input: `${input}not json\n`,
    });
    expect(appended.stdout).toBe('appended 1 event at positions 1-1, 3 invalid lines parked\n');
    expect(appended.stderr).toContain('evlog: line 2 parked: Refund v1: the data breaks its schema');
    expect(appended.stderr).toContain('evlog: 3 invalid lines parked as dead letters\n');
    expect(appended.stderr).toContain('hint: see them with `evlog dlq list --group append`');
    const parked = parseLines((await ok(['dlq', 'list', '--group', 'append', '--json', '--db', db])).stdout);
    expect(parked.map((e) => [e.id, e.group, e.position, e.type, e.reason, e.attempts])).toEqual([
      [1, 'append', null, 'Refund', 'invalid', 1],
      [2, 'append', null, 'Refund', 'invalid', 1],
      [3, 'append', null, null, 'invalid', 1],
    ]);
    expect(parked[0]?.error).toContain('$.amount: must be number (type), got "7.50"');
    const line = await ok(['dlq', 'show', '1', '--db', db]);
    expect(line.stdout).toContain('line:\n  {"type":"Refund","key":"order-2","data":{"amount":"7.50"}}\n');

    // The schema now takes amounts as strings too; the empty refund and the garbage stay invalid.
    const relaxed = join(tmp, 'refund-v2.json');
    writeFileSync(
      relaxed,
      JSON.stringify({ type: 'object', properties: { amount: { type: ['number', 'string'] } }, required: ['amount'] }),
    );
    await ok(['schema', 'register', 'Refund', relaxed, '--db', db]);
    const redrive = await runEvlog(['dlq', 'redrive', '--all', '--group', 'append', '--yes', '--json', '--db', db]);
    expect(redrive.code).toBe(1);
    expect(parseLines(redrive.stdout)).toEqual([
      { id: 1, outcome: 'redriven', error: null },
      { id: 2, outcome: 'failed', error: expect.stringContaining('$.amount: is required') },
      { id: 3, outcome: 'failed', error: expect.stringContaining('the line is not valid JSON') },
    ]);
    const again = await ok(['dlq', 'redrive', '1', '--db', db]);
    expect(again.stderr).toContain('skipped 1: already redriven');
    const events = await readEvents(db);
    expect(events.map((e) => [e.position, e.key, e.data, e.schemaVersion])).toEqual([
      [1, 'order-1', { amount: 5 }, 1],
      [2, 'order-2', { amount: '7.50' }, 2],
    ]);
    const shown = JSON.parse((await ok(['dlq', 'show', '1', '--json', '--db', db])).stdout);
    expect(shown.history).toEqual([{ at: expect.any(String), action: 'redriven', error: null, position: 2 }]);
  });

  it("redrives a parked line with the batch's --key, as the good lines got it", async ({ tmp, db }) => {
    const schema = join(tmp, 'refund.json');
    writeFileSync(schema, JSON.stringify({ type: 'object', properties: { amount: { type: 'number' } } }));
    await ok(['schema', 'register', 'Refund', schema, '--db', db]);
    const input = toNdjson([
      { type: 'Refund', data: { amount: 5 } },
      { type: 'Refund', data: { amount: '7.50' } },
    ]);
    await ok(['append', 'payments', '--batch', '--key', 'cust-1', '--on-invalid', 'dead-letter', '--db', db], {
      input,
    });
    expect((await ok(['dlq', 'show', '1', '--db', db])).stdout).toContain('line (the batch gave --key cust-1):\n');
    expect(JSON.parse((await ok(['dlq', 'show', '1', '--json', '--db', db])).stdout).lineDefaults).toEqual({
      key: 'cust-1',
    });
    writeFileSync(schema, JSON.stringify({ type: 'object', properties: { amount: { type: ['number', 'string'] } } }));
    await ok(['schema', 'register', 'Refund', schema, '--db', db]);
    await ok(['dlq', 'redrive', '1', '--db', db]);
    const events = await readEvents(db);
    expect(events.map((e) => [e.key, e.data, e.schemaVersion])).toEqual([
      ['cust-1', { amount: 5 }, 1],
      ['cust-1', { amount: '7.50' }, 2],
    ]);
  });

  it("parks what a projection with onError: 'dead-letter' fails on, shows the count, and redrives it once fixed", async ({
    tmp,
    db,
  }) => {
    const config = join(tmp, 'evlog.config.mjs');
    const writeConfig = (broken: boolean) =>
      writeFileSync(
        config,
        `export default { projections: [{ name: 'totals', version: 1, topics: ['orders'], onError: 'dead-letter',
  key: (e) => e.data.customer, initialState: () => ({ total: 0 }),
  evolve: (s, e) => { if (${broken} && e.data.total < 0) throw new Error('negative total ' + e.data.total); return { total: s.total + e.data.total }; } }] };\n`,
      );
    writeConfig(true);
    await ok(['append', '--batch', '--db', db], {
      input: toNdjson([
        { topic: 'orders', type: 'OrderPlaced', data: { customer: 'a', total: 10 } },
        { topic: 'orders', type: 'OrderPlaced', data: { customer: 'a', total: -3 } },
        { topic: 'orders', type: 'OrderPlaced', data: { customer: 'b', total: 4 } },
      ]),
    });
    const run = await ok(['projection', 'run', '--db', db], { cwd: tmp });
    expect(run.stdout).toContain('totals: 3 events applied, checkpoint 3');
    const status = await ok(['projection', 'status', '--db', db], { cwd: tmp });
    expect(status.stdout).toMatch(/totals\s+1\s+idle\s+3\s+0\s+2\s+1\s*\n/);
    const [entry] = parseLines((await ok(['dlq', 'list', '--group', 'totals', '--json', '--db', db])).stdout);
    expect(entry).toMatchObject({ id: 1, position: 2, reason: 'projection-error', error: 'negative total -3' });
    expect(
      JSON.parse((await ok(['projection', 'get', 'totals', 'a', '--json', '--db', db], { cwd: tmp })).stdout),
    ).toEqual({ total: 10 });

    writeConfig(false);
    expect((await ok(['dlq', 'redrive', '1', '--db', db], { cwd: tmp })).stdout).toBe('redriven 1\n');
    expect((await ok(['dlq', 'redrive', '1', '--db', db], { cwd: tmp })).stderr).toContain(
      'skipped 1: already redriven',
    );
    expect(
      JSON.parse((await ok(['projection', 'get', 'totals', 'a', '--json', '--db', db], { cwd: tmp })).stdout),
    ).toEqual({ total: 7 });
    const after = parseLines((await ok(['projection', 'status', '--json', '--db', db], { cwd: tmp })).stdout);
    expect(after[0]).toMatchObject({ checkpoint: 3, parked: 0 });
  });
});

describe.concurrent('evlog dlq: bad input', () => {
  const shared = useSharedStore(async (db) => {
    const store = openStore(db);
    await store.parkDeadLetters([
      {
        source: 'append',
        group: 'append',
        position: null,
        topic: 'orders',
        type: null,
        line: 'x',
        reason: 'invalid',
        error: 'bad',
        attempts: 1,
      },
    ]);
    store.close();
  });

  const cases: [string[], number, string][] = [
    [['dlq', 'show', 'abc'], 2, '"abc" is not a dead-letter id'],
    [['dlq', 'show', '99'], 5, 'no dead letter with id 99'],
    [['dlq', 'redrive'], 2, 'which entries? give their ids, or --all'],
    [['dlq', 'redrive', '1', '--all'], 2, 'give either ids or --all, not both'],
    [['dlq', 'redrive', '1', '--group', 'append'], 2, '--group, --type and --reason select entries for --all'],
    [['dlq', 'redrive', '1', '99', '98'], 5, 'no dead letters with id 99, 98'],
    [['dlq', 'redrive', '1x'], 2, '"1x" is not a dead-letter id'],
    [['dlq', 'discard', '--all'], 2, 'discard --all would change 1 parked dead letter'],
    [['dlq', 'discard', '0'], 2, '"0" is not a dead-letter id'],
    [['dlq', 'discard', '7'], 5, 'no dead letter with id 7'],
    [['dlq', 'list', '--status', 'gone'], 2, "option '--status <status>' argument 'gone' is invalid"],
    [['dlq', 'list', '--limit', '0'], 2, '--limit: must be a whole number from 1'],
    [['dlq', 'list', '--since', 'yesterday'], 2, '--since: "yesterday" is neither an ISO-8601 time nor a duration'],
    [['dlq', 'list', '--after', 'x'], 2, '--after: must be an entry id'],
  ];
  for (const [args, code, message] of cases) {
    it(`${args.join(' ')} exits ${code}`, async () => {
      const result = await runEvlog([...args, '--db', shared()]);
      expect(result.code).toBe(code);
      expect(result.stdout).toBe('');
      expectOneError(result.stderr, message);
    });
  }

  it('refuses to list a store that does not exist (exit 5), and nothing was changed by the refusals', async ({
    tmp,
  }) => {
    const missing = await runEvlog(['dlq', 'list', '--db', join(tmp, 'none.db')]);
    expect(missing.code).toBe(5);
    expect(existsSync(join(tmp, 'none.db'))).toBe(false);
    const [entry] = parseLines((await ok(['dlq', 'list', '--json', '--db', shared()])).stdout);
    expect(entry).toMatchObject({ id: 1, status: 'parked', attempts: 1 });
  });

  it('has help with examples for every subcommand', async () => {
    for (const sub of ['list', 'show', 'redrive', 'discard']) {
      const help = await ok(['dlq', sub, '--help']);
      expect(help.stdout).toContain(`Usage: evlog dlq ${sub}`);
      expect(help.stdout).toContain('Examples:\n  $ evlog dlq');
    }
  });
});

describe('evlog dlq list over 100,000 entries', () => {
  const shared = useSharedStore(async (db) => {
    const store = openStore(db);
    const entries: NewDeadLetter[] = Array.from({ length: 100_000 }, (_, i) => ({
      source: 'consumer',
      group: i % 10 === 0 ? 'billing' : 'mailer',
      position: i + 1,
      topic: 'orders',
      type: 'OrderPlaced',
      line: null,
      reason: 'handler-failed',
      error: `smtp down ${i + 1}`,
      attempts: 5,
    }));
    await store.parkDeadLetters(entries);
    // The first page, in process: fast however many entries there are.
    const started = performance.now();
    const page = await store.listDeadLetters({ status: 'parked' }, { limit: 51 });
    const elapsed = performance.now() - started;
    store.close();
    firstPageMs = elapsed;
    expect(page).toHaveLength(51);
  });
  let firstPageMs = Number.POSITIVE_INFINITY;

  it('answers the first page at once and pages on with --after', async () => {
    // The target is 50 ms; the bound leaves room for a loaded 2-core test machine.
    expect(firstPageMs).toBeLessThan(100);
    const first = await ok(['dlq', 'list', '--json', '--db', shared()]);
    const lines = parseLines(first.stdout);
    expect(lines.map((e) => e.id)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(first.stderr).toBe(
      `showing ids 1-50, 100000 match in all; next page: evlog dlq list --db ${shared()} --json --after 50\n`,
    );
    const billing = await ok([
      'dlq',
      'list',
      '--group',
      'billing',
      '--limit',
      '1000',
      '--after',
      '99000',
      '--db',
      shared(),
    ]);
    const rows = billing.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(100);
    expect(rows[0]).toMatch(/^99001\s+billing\s+99001\s/);
    expect(billing.stderr).toBe('');
  });
});
