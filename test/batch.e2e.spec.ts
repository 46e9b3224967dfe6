import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  appendEvents,
  it,
  parseLines,
  readEvents,
  runEvlog,
  runEvlogIntoClosedPipe,
  type StoredEventJson,
  startEvlog,
  toNdjson,
} from './support/run-evlog.js';

function writeInput(tmp: string, name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

const threeEvents = [
  { topic: 'orders', key: 'order-1', type: 'OrderPlaced', data: { total: 10 } },
  { topic: 'payments', key: 'order-1', type: 'PaymentProcessed', data: { amount: 10 }, metadata: { source: 'psp' } },
  { topic: 'orders', key: 'order-1', type: 'OrderShipped', data: { carrier: 'dhl' } },
];

/** What the store holds, without the fields a copy may change (recorded time). */
const contentOf = (events: StoredEventJson[]) => events.map(({ time: _time, ...rest }) => rest);

describe.concurrent('append --batch: input', () => {
  it('appends every line of a file in order and prints one result per line with --json', async ({ db, tmp }) => {
    const file = writeInput(tmp, 'events.ndjson', toNdjson(threeEvents));
    const result = await runEvlog(['append', '--batch', file, '--json', '--db', db]);
    expect(result.code).toBe(0);
    expect(parseLines(result.stdout).map((r) => [r.position, r.topic, r.version, r.duplicate])).toEqual([
      [1, 'orders', 1, false],
      [2, 'payments', 1, false],
      [3, 'orders', 2, false],
    ]);
    const stored = await readEvents(db);
    expect(stored.map((e) => [e.type, e.data, e.metadata])).toEqual([
      ['OrderPlaced', { total: 10 }, {}],
      ['PaymentProcessed', { amount: 10 }, { source: 'psp' }],
      ['OrderShipped', { carrier: 'dhl' }, {}],
    ]);
  });

  it('reads the lines from stdin when no file is given', async ({ db }) => {
    const result = await runEvlog(['append', '--batch', '--db', db], { input: toNdjson(threeEvents) });
    expect(result.code).toBe(0);
    expect((await readEvents(db)).map((e) => e.type)).toEqual(['OrderPlaced', 'PaymentProcessed', 'OrderShipped']);
  });

  it('takes the topic and key arguments as defaults for lines that name none', async ({ db }) => {
    const lines = [
      { type: 'Counted', data: { n: 1 } },
      { topic: 'audit', key: 'k-2', type: 'Counted', data: { n: 2 } },
    ];
    const result = await runEvlog(['append', 'metrics', '--batch', '-k', 'k-1', '--db', db], {
      input: toNdjson(lines),
    });
    expect(result.code).toBe(0);
    expect((await readEvents(db)).map((e) => [e.topic, e.key])).toEqual([
      ['metrics', 'k-1'],
      ['audit', 'k-2'],
    ]);
  });

  it('skips blank lines', async ({ db }) => {
    const result = await runEvlog(['append', '--batch', '--db', db], {
      input: `\n${JSON.stringify(threeEvents[0])}\n\n   \n${JSON.stringify(threeEvents[1])}\n`,
    });
    expect(result.code).toBe(0);
    expect(await readEvents(db)).toHaveLength(2);
  });

  it('appends a line with an id once: a batch run twice adds nothing the second time', async ({ db, tmp }) => {
    const withIds = threeEvents.map((event, i) => ({ ...event, id: `evt-${i + 1}` }));
    const file = writeInput(tmp, 'events.ndjson', toNdjson(withIds));
    expect((await runEvlog(['append', '--batch', file, '--db', db])).code).toBe(0);
    const again = await runEvlog(['append', '--batch', file, '--json', '--db', db]);
    expect(again.code).toBe(0);
    expect(parseLines(again.stdout).map((r) => [r.position, r.duplicate])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    expect(await readEvents(db)).toHaveLength(3);
  });

  it('honours "expect" on a line, refusing the whole batch with exit 4 when it fails', async ({ db }) => {
    await appendEvents(db, [threeEvents[0]]);
    const result = await runEvlog(['append', '--batch', '--db', db], {
      input: toNdjson([
        { topic: 'orders', key: 'order-2', type: 'OrderPlaced', data: {}, expect: 'none' },
        { topic: 'orders', key: 'order-1', type: 'OrderPlaced', data: {}, expect: 'none' },
      ]),
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('line 2');
    expect(result.stderr).toContain('orders/order-1');
    expect(await readEvents(db)).toHaveLength(1);
  });
});

describe.concurrent('append --batch: output', () => {
  it('appends everything and exits 0 without a stack trace when its --json output is closed early', async ({ db }) => {
    // Enough results to overflow the pipe, so the later writes meet the closed end.
    const lines = Array.from({ length: 3000 }, (_, n) => ({ topic: 'orders', type: 'Counted', data: { n } }));
    const result = await runEvlogIntoClosedPipe(['append', '--batch', '--json', '--db', db], {
      input: toNdjson(lines),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const stats = await runEvlog(['stats', '--json', '--db', db]);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: 3000 });
  });
});

describe.concurrent('append --batch: copying a store', () => {
  it('accepts the `tail --json` envelope, so a store copies into another with ids, streams and metadata', async ({
    db,
    tmp,
  }) => {
    const source = db;
    const copy = join(tmp, 'copy.db');
    await appendEvents(source, [
      ...threeEvents,
      { topic: 'audit', type: 'Checked', data: null, metadata: { correlationId: 'c-1' } },
      { topic: 'orders', key: 'order-2', type: 'OrderPlaced', data: { total: 5, note: 'ünïcødé ✓' } },
    ]);
    const exported = await runEvlog(['tail', '--json', '--from', 'beginning', '--db', source]);
    expect(exported.code).toBe(0);
    const imported = await runEvlog(['append', '--batch', '--db', copy], { input: exported.stdout });
    expect(imported.code).toBe(0);
    expect(imported.stderr).toBe('');
    expect(contentOf(await readEvents(copy))).toEqual(contentOf(await readEvents(source)));
  });
});

describe.concurrent('append --batch: a bad line aborts the whole batch', () => {
  const good = (n: number) => JSON.stringify({ topic: 'orders', key: 'order-1', type: 'Counted', data: { n } });

  it.for([
    { what: 'malformed JSON', line: '{"topic":"orders","type":"Counted","data":{' },
    { what: 'a missing type', line: '{"topic":"orders","data":{"n":3}}' },
    { what: 'a bad topic name', line: '{"topic":"orders and more!","type":"Counted","data":{"n":3}}' },
  ])('appends nothing on $what (exit 3), naming the line number', async ({ line }, { db, tmp }) => {
    await appendEvents(db, [{ topic: 'orders', type: 'Before', data: {} }]);
    // A blank line before the bad one: the number is the file's line number, not the event's index.
    const file = writeInput(tmp, 'events.ndjson', `${good(1)}\n${good(2)}\n\n${line}\n${good(4)}\n`);
    const result = await runEvlog(['append', '--batch', file, '--db', db]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/line 4\b/);
    expect((await readEvents(db)).map((e) => e.type)).toEqual(['Before']);
  });

  it('appends nothing when the bad line comes after more than a thousand good ones', async ({ db }) => {
    const lines = Array.from({ length: 1500 }, (_, i) => good(i + 1));
    lines[1399] = '{"topic":"orders","data":{}}';
    const result = await runEvlog(['append', '--batch', '--db', db], { input: `${lines.join('\n')}\n` });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/line 1400\b/);
    const stats = await runEvlog(['stats', '--json', '--db', db]);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: 0 });
  });

  it('refuses an event over the size limit (EVLOG_MAX_EVENT_BYTES) with exit 3 and appends nothing', async ({ db }) => {
    const big = { topic: 'orders', type: 'Counted', data: { note: 'x'.repeat(200) } };
    const result = await runEvlog(['append', '--batch', '--db', db], {
      input: toNdjson([{ topic: 'orders', type: 'Counted', data: { n: 1 } }, big]),
      env: { EVLOG_MAX_EVENT_BYTES: '100' },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/line 2\b/);
    expect(result.stderr).toContain('100');
    const stats = await runEvlog(['stats', '--json', '--db', db]);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: 0 });
  });

  it('refuses a single event over the size limit with exit 3', async ({ tmp }) => {
    const result = await runEvlog(['append', 'orders', JSON.stringify({ note: 'x'.repeat(200) }), '-t', 'Noted'], {
      cwd: tmp,
      env: { EVLOG_MAX_EVENT_BYTES: '100' },
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('100');
  });

  it('accepts an event just under the size limit', async ({ tmp }) => {
    const result = await runEvlog(['append', 'orders', JSON.stringify({ note: 'x'.repeat(50) }), '-t', 'Noted'], {
      cwd: tmp,
      env: { EVLOG_MAX_EVENT_BYTES: '100' },
    });
    expect(result.code).toBe(0);
  });
});

describe.concurrent('append --batch --on-invalid skip', () => {
  it('appends the good lines and names each skipped line on stderr', async ({ db }) => {
    const input = [
      JSON.stringify({ topic: 'orders', type: 'Counted', data: { n: 1 } }),
      'not json at all',
      JSON.stringify({ topic: 'orders', type: 'Counted', data: { n: 3 } }),
      JSON.stringify({ topic: 'orders', data: { n: 4 } }),
      JSON.stringify({ topic: 'orders', type: 'Counted', data: { n: 5 } }),
    ].join('\n');
    const result = await runEvlog(['append', '--batch', '--on-invalid', 'skip', '--json', '--db', db], {
      input: `${input}\n`,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/line 2\b/);
    expect(result.stderr).toMatch(/line 4\b/);
    expect(result.stderr).not.toMatch(/line [135]\b/);
    expect(parseLines(result.stdout).map((r) => r.position)).toEqual([1, 2, 3]);
    expect((await readEvents(db)).map((e) => e.data)).toEqual([{ n: 1 }, { n: 3 }, { n: 5 }]);
  });

  it('skips a line over the size limit and keeps the others', async ({ db }) => {
    const result = await runEvlog(['append', '--batch', '--on-invalid', 'skip', '--db', db], {
      input: toNdjson([
        { topic: 'orders', type: 'Counted', data: { n: 1 } },
        { topic: 'orders', type: 'Counted', data: { note: 'x'.repeat(200) } },
      ]),
      env: { EVLOG_MAX_EVENT_BYTES: '100' },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/line 2\b/);
    expect((await readEvents(db)).map((e) => e.data)).toEqual([{ n: 1 }]);
  });

  it('refuses an unknown --on-invalid action as a usage error (exit 2)', async ({ db }) => {
    const result = await runEvlog(['append', '--batch', '--on-invalid', 'ignore', '--db', db], {
      input: toNdjson(threeEvents),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ignore');
  });
});

describe.concurrent('append --batch from a slow producer', () => {
  it('does not hold the store while its input is still coming', async ({ db }) => {
    const batch = startEvlog(['append', 'slow', '--batch', '--db', db], {
      input: `${JSON.stringify({ type: 'A', data: {} })}\n`,
      keepStdinOpen: true,
    });
    // Another writer gets through at once instead of waiting for the batch's input to end.
    const started = Date.now();
    const other = await runEvlog(['append', 'other', '{}', '-t', 'X', '--db', db]);
    expect(other.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    batch.child.stdin?.end(`${JSON.stringify({ type: 'B', data: {} })}\n`);
    expect((await batch.result).code).toBe(0);
    const events = await readEvents(db);
    expect(events.map((e) => `${e.topic} ${e.type}`)).toEqual(['other X', 'slow A', 'slow B']);
  });
});

describe.concurrent('a failed write command', () => {
  it.for([
    { name: 'a missing batch file', args: ['append', 'orders', '--batch', 'nope.ndjson'], code: 5 },
    { name: 'an invalid topic', args: ['append', 'bad topic', '{}', '-t', 'A'], code: 3 },
    { name: 'malformed data', args: ['append', 'orders', '{oops', '-t', 'A'], code: 3 },
  ])('creates no store for $name', async ({ args, code }, { tmp, db }) => {
    const result = await runEvlog([...args, '--db', db], { cwd: tmp });
    expect(result.code).toBe(code);
    expect(existsSync(db)).toBe(false);
  });
});
