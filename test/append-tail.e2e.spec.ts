import { writeFileSync } from 'node:fs';
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
  useSharedStore,
} from './support/run-evlog.js';

const ENVELOPE_FIELDS = [
  'position',
  'id',
  'topic',
  'key',
  'version',
  'type',
  'schemaVersion',
  'time',
  'data',
  'metadata',
];

/** `count` events n=1..count on orders/o-1, in one batch. */
function numberedEvents(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    topic: 'orders',
    key: 'o-1',
    type: 'Counted',
    data: { n: i + 1 },
  }));
}

/** Positions printed by `tail` with a template of `{position}`. */
async function tailPositions(db: string, ...args: string[]): Promise<number[]> {
  const result = await runEvlog(['tail', '--db', db, '-o', '{position}', ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

describe.concurrent('append: one event', () => {
  it('takes the data as an argument and prints exactly the contract fields with --json', async ({ db }) => {
    const result = await runEvlog([
      'append',
      'orders',
      '{"total":12.5}',
      '-t',
      'OrderPlaced',
      '-k',
      'order-17',
      '--json',
      '--db',
      db,
    ]);
    expect(result.code).toBe(0);
    const [printed, ...rest] = parseLines(result.stdout);
    expect(rest).toEqual([]);
    expect(Object.keys(printed ?? {})).toEqual(['position', 'id', 'topic', 'key', 'version', 'duplicate']);
    expect(printed).toEqual({
      position: 1,
      id: expect.any(String),
      topic: 'orders',
      key: 'order-17',
      version: 1,
      duplicate: false,
    });
    const [stored] = await readEvents(db);
    expect(stored).toMatchObject({ id: printed?.id, type: 'OrderPlaced', data: { total: 12.5 } });
  });

  it('reads the data from stdin when it is piped', async ({ db }) => {
    const result = await runEvlog(['append', 'orders', '-t', 'OrderPlaced', '-k', 'order-17', '--db', db], {
      input: '{"total": 7, "lines": [{"sku": "mug"}]}\n',
    });
    expect(result.code).toBe(0);
    const events = await readEvents(db);
    expect(events.map((e) => e.data)).toEqual([{ total: 7, lines: [{ sku: 'mug' }] }]);
  });

  it('prints key null for an event without a key', async ({ db }) => {
    const result = await runEvlog(['append', 'audit', '{}', '-t', 'Checked', '--json', '--db', db]);
    expect(result.code).toBe(0);
    expect(parseLines(result.stdout)[0]).toMatchObject({ topic: 'audit', key: null, version: 1 });
  });

  it('counts versions per stream and positions across the store', async ({ db }) => {
    const append = (key: string) =>
      runEvlog(['append', 'orders', '{}', '-t', 'Touched', '-k', key, '--json', '--db', db]);
    const outputs = [];
    for (const key of ['a', 'b', 'a']) outputs.push(parseLines((await append(key)).stdout)[0]);
    expect(outputs.map((o) => [o?.position, o?.key, o?.version])).toEqual([
      [1, 'a', 1],
      [2, 'b', 1],
      [3, 'a', 2],
    ]);
  });

  it('stores --meta, --correlation-id and --causation-id in the metadata', async ({ db }) => {
    const result = await runEvlog([
      'append',
      'orders',
      '{}',
      '-t',
      'OrderPlaced',
      '-m',
      'source=checkout',
      '-m',
      'tenant=acme',
      '--correlation-id',
      'corr-1',
      '--causation-id',
      'cause-1',
      '--db',
      db,
    ]);
    expect(result.code).toBe(0);
    const [event] = await readEvents(db);
    expect(event?.metadata).toEqual({
      source: 'checkout',
      tenant: 'acme',
      correlationId: 'corr-1',
      causationId: 'cause-1',
    });
  });
});

describe.concurrent('append --id: idempotency', () => {
  const appendWithId = (db: string, data: string) =>
    runEvlog(['append', 'orders', data, '-t', 'OrderPlaced', '-k', 'o-1', '--id', 'evt-1', '--json', '--db', db]);

  it('appends the same id with the same content once, reporting the original position', async ({ db }) => {
    await appendEvents(db, [{ topic: 'other', type: 'Before', data: {} }]);
    const first = await appendWithId(db, '{"total":1}');
    const again = await appendWithId(db, '{"total":1}');
    expect(first.code).toBe(0);
    expect(again.code).toBe(0);
    expect(parseLines(first.stdout)[0]).toMatchObject({ position: 2, id: 'evt-1', version: 1, duplicate: false });
    expect(parseLines(again.stdout)[0]).toMatchObject({ position: 2, id: 'evt-1', version: 1, duplicate: true });
    expect((await readEvents(db)).map((e) => e.id)).toEqual([expect.any(String), 'evt-1']);
  });

  it('refuses the same id with other content as a conflict (exit 4) and appends nothing', async ({ db }) => {
    await appendWithId(db, '{"total":1}');
    const other = await appendWithId(db, '{"total":2}');
    expect(other.code).toBe(4);
    expect(other.stdout).toBe('');
    expect(other.stderr).toContain('evt-1');
    expect((await readEvents(db)).map((e) => e.data)).toEqual([{ total: 1 }]);
  });
});

describe.concurrent('append --expect', () => {
  const appendExpecting = (db: string, key: string, expectation: string) =>
    runEvlog(['append', 'orders', '{}', '-t', 'OrderTouched', '-k', key, '--expect', expectation, '--db', db]);

  it('appends when the expectation holds: none on a new stream, then exists, then the current version', async ({
    db,
  }) => {
    expect((await appendExpecting(db, 'order-9', 'none')).code).toBe(0);
    expect((await appendExpecting(db, 'order-9', 'exists')).code).toBe(0);
    expect((await appendExpecting(db, 'order-9', '2')).code).toBe(0);
    const events = await readEvents(db);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3]);
  });

  it.for([
    { expectation: 'none', setup: 1, what: 'none on a stream that exists' },
    { expectation: 'exists', setup: 0, what: 'exists on a stream that does not' },
    { expectation: '3', setup: 1, what: 'a version the stream is not at' },
  ])('refuses $what with exit 4, naming the stream, and appends nothing', async ({ expectation, setup }, { db }) => {
    await appendEvents(db, [
      { topic: 'orders', key: 'other', type: 'OrderTouched', data: {} },
      ...Array.from({ length: setup }, () => ({ topic: 'orders', key: 'order-9', type: 'OrderTouched', data: {} })),
    ]);
    const result = await appendExpecting(db, 'order-9', expectation);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('orders/order-9');
    expect(await readEvents(db)).toHaveLength(1 + setup);
  });

  it('refuses an expectation that is not a version as a usage error (exit 2)', async ({ db }) => {
    const result = await appendExpecting(db, 'order-9', 'latest');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('latest');
  });
});

describe.concurrent('tail: which events', () => {
  describe('by position', () => {
    const twelve = useSharedStore((db) => appendEvents(db, numberedEvents(12)));

    it('prints the last 10 events by default, oldest first', async () => {
      expect(await tailPositions(twelve())).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    });

    it('prints the last n events with -n', async () => {
      expect(await tailPositions(twelve(), '-n', '3')).toEqual([10, 11, 12]);
    });

    it('prints every event from the beginning with --from beginning, not only the last 10', async () => {
      expect(await tailPositions(twelve(), '--from', 'beginning')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    });

    it('starts at a position with --from <position>', async () => {
      expect(await tailPositions(twelve(), '--from', '9')).toEqual([9, 10, 11, 12]);
    });

    it('ends at a position, inclusive, with --until <position>', async () => {
      expect(await tailPositions(twelve(), '--from', '2', '--until', '4')).toEqual([2, 3, 4]);
      expect(await tailPositions(twelve(), '--until', '3')).toEqual([1, 2, 3]);
    });

    it('stops after n events with --limit', async () => {
      expect(await tailPositions(twelve(), '--from', 'beginning', '--limit', '4')).toEqual([1, 2, 3, 4]);
    });
  });

  describe('by recorded time', () => {
    // import keeps recorded times, so the store holds events at known times.
    async function importAt(tmp: string, db: string, times: string[]) {
      const file = join(tmp, 'timed.ndjson');
      writeFileSync(
        file,
        toNdjson(times.map((time, i) => ({ topic: 'orders', type: 'Counted', data: { n: i + 1 }, time }))),
      );
      const result = await runEvlog(['import', file, '--db', db]);
      expect(result.code).toBe(0);
    }

    it('starts at an ISO-8601 time with --from, and ends at one with --until (inclusive)', async ({ db, tmp }) => {
      await importAt(tmp, db, ['2026-01-01T00:00:00.000Z', '2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z']);
      expect(await tailPositions(db, '--from', '2026-01-01T01:00:00Z')).toEqual([2, 3]);
      expect(await tailPositions(db, '--from', '2026-01-01T00:30:00Z', '--until', '2026-01-01T01:00:00Z')).toEqual([2]);
      expect(await tailPositions(db, '--until', '2026-01-01T01:59:59Z')).toEqual([1, 2]);
    });

    it('starts a duration ago with --from 2h', async ({ db, tmp }) => {
      const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
      await importAt(tmp, db, [ago(180), ago(60), ago(10)]);
      expect(await tailPositions(db, '--from', '2h')).toEqual([2, 3]);
      expect(await tailPositions(db, '--from', '30m')).toEqual([3]);
      expect(await tailPositions(db, '--from', '2h ago')).toEqual([2, 3]);
    });
  });

  describe('filters', () => {
    const mixed = [
      { topic: 'orders', key: 'order-1', type: 'OrderPlaced', data: { customer: { id: 42 }, total: 10 } },
      { topic: 'payments', key: 'order-1', type: 'PaymentProcessed', data: { amount: 10 } },
      { topic: 'orders', key: 'order-2', type: 'OrderPlaced', data: { customer: { id: 7 }, total: 20 } },
      { topic: 'orders', key: 'order-1', type: 'OrderShipped', data: { carrier: 'dhl' } },
      { topic: 'orders', key: 'order-3', type: 'OrderPlaced', data: { customer: { id: 'vip-9' }, total: 30 } },
      { topic: 'orders', key: 'order-2', type: 'OrderCancelled', data: { reason: 'oops' } },
    ];
    const store = useSharedStore((db) => appendEvents(db, mixed));

    it('keeps one stream with --stream topic/key', async () => {
      expect(await tailPositions(store(), '--stream', 'orders/order-1')).toEqual([1, 4]);
    });

    it('keeps one key across topics with -k', async () => {
      expect(await tailPositions(store(), '-k', 'order-1')).toEqual([1, 2, 4]);
    });

    it('keeps the named topics', async () => {
      expect(await tailPositions(store(), 'payments')).toEqual([2]);
    });

    it('keeps every type given with a repeated --type', async () => {
      expect(await tailPositions(store(), '--type', 'OrderShipped', '--type', 'OrderCancelled')).toEqual([4, 6]);
    });

    it('keeps events whose data field equals a number with --where', async () => {
      expect(await tailPositions(store(), '--where', 'customer.id=42')).toEqual([1]);
    });

    it('keeps events whose data field equals a string with --where', async () => {
      expect(await tailPositions(store(), '--where', 'customer.id=vip-9')).toEqual([5]);
    });

    it('combines filters with AND', async () => {
      expect(await tailPositions(store(), 'orders', '--type', 'OrderPlaced', '--where', 'total=20')).toEqual([3]);
    });

    it('says so (exit 5) when the stream does not exist', async () => {
      const result = await runEvlog(['tail', '--stream', 'orders/order-404', '--db', store()]);
      expect(result.code).toBe(5);
      expect(result.stderr).toContain('orders/order-404');
    });
  });
});

describe.concurrent('tail: output formats', () => {
  it('prints the JSON envelope with exactly the contract fields, in order, with -o json', async ({ db }) => {
    await appendEvents(db, [
      {
        topic: 'orders',
        key: 'order-17',
        type: 'OrderPlaced',
        id: 'evt-17',
        data: { total: 12.5, customer: { name: 'Chloé' } },
        metadata: { correlationId: 'c-1' },
      },
      { topic: 'audit', type: 'Checked', data: [1, 2] },
    ]);
    const result = await runEvlog(['tail', '-o', 'json', '--db', db]);
    expect(result.code).toBe(0);
    const events = parseLines<StoredEventJson>(result.stdout);
    for (const event of events) expect(Object.keys(event)).toEqual(ENVELOPE_FIELDS);
    expect(events[0]).toEqual({
      position: 1,
      id: 'evt-17',
      topic: 'orders',
      key: 'order-17',
      version: 1,
      type: 'OrderPlaced',
      schemaVersion: null,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      data: { total: 12.5, customer: { name: 'Chloé' } },
      metadata: { correlationId: 'c-1' },
    });
    expect(events[1]).toMatchObject({ position: 2, key: null, data: [1, 2], metadata: {} });
  });

  it('prints the same envelope with --json', async ({ db }) => {
    await appendEvents(db, numberedEvents(2));
    const withFormat = await runEvlog(['tail', '-o', 'json', '--db', db]);
    const withFlag = await runEvlog(['tail', '--json', '--db', db]);
    expect(withFlag.code).toBe(0);
    expect(withFlag.stdout).toBe(withFormat.stdout);
  });

  it('prints CloudEvents 1.0 JSON with -o cloudevents', async ({ db }) => {
    await appendEvents(db, [
      { topic: 'orders', key: 'order-17', type: 'OrderPlaced', id: 'evt-17', data: { total: 12.5 } },
    ]);
    const result = await runEvlog(['tail', '-o', 'cloudevents', '--db', db]);
    expect(result.code).toBe(0);
    const [event] = parseLines(result.stdout);
    expect(event).toMatchObject({
      specversion: '1.0',
      id: 'evt-17',
      source: expect.any(String),
      type: 'OrderPlaced',
      subject: 'order-17',
      time: expect.stringMatching(/Z$/),
      data: { total: 12.5 },
    });
  });

  it('fills a template with envelope fields and data paths, expanding \\t', async ({ db }) => {
    await appendEvents(db, [
      { topic: 'orders', key: 'order-17', type: 'OrderPlaced', data: { total: 12.5, customer: { id: 42 } } },
    ]);
    const result = await runEvlog([
      'tail',
      '-o',
      '{position} {stream}@{version}\\t{type} {data.total} {data.customer.id}{data.missing}',
      '--db',
      db,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('1 orders/order-17@1\tOrderPlaced 12.5 42\n');
  });

  it('ends quietly (exit 0) when its output is closed early, as by `| head -1`', async ({ db }) => {
    await appendEvents(
      db,
      Array.from({ length: 3000 }, (_, n) => ({ topic: 'orders', type: 'Counted', data: { n } })),
    );
    const result = await runEvlogIntoClosedPipe(['tail', '--json', '--from', 'beginning', '--db', db]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('refuses an unknown template field as a usage error (exit 2)', async ({ db }) => {
    await appendEvents(db, numberedEvents(1));
    const result = await runEvlog(['tail', '-o', '{position} {colour}', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('colour');
  });

  it('prints one human line per event by default, with stream, version, type and data', async ({ db }) => {
    await appendEvents(db, [{ topic: 'orders', key: 'order-17', type: 'OrderPlaced', data: { total: 12.5 } }]);
    const result = await runEvlog(['tail', '--db', db]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('orders/order-17@1');
    expect(lines[0]).toContain('OrderPlaced');
    expect(lines[0]).toContain('{"total":12.5}');
    // Not a TTY: no colour codes in piped output.
    expect(result.stdout).not.toContain('\u001b[');
  });
});

describe('tail --follow', () => {
  it('ends by itself with --idle 1s when nothing is appended', async ({ db }) => {
    await appendEvents(db, numberedEvents(1));
    const started = Date.now();
    const result = await runEvlog(['tail', '-f', '--idle', '1s', '-o', '{position}', '--db', db]);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('1\n');
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('prints events that another process appends while it runs, then ends when idle', async ({ db }) => {
    await appendEvents(db, numberedEvents(1));
    // The idle time leaves room for a slow machine to start the appending process.
    const tail = startEvlog(['tail', '-f', '--idle', '3s', '--json', '--db', db]);
    await tail.waitForLines(1);
    const append = await runEvlog(['append', 'orders', '{"late":true}', '-t', 'Arrived', '-k', 'o-2', '--db', db]);
    expect(append.code).toBe(0);
    const result = await tail.result;
    expect(result.code).toBe(0);
    expect(parseLines<StoredEventJson>(result.stdout).map((e) => [e.position, e.type, e.data])).toEqual([
      [1, 'Counted', { n: 1 }],
      [2, 'Arrived', { late: true }],
    ]);
  });

  it('prints only new events that match its filters', async ({ db }) => {
    await appendEvents(db, numberedEvents(1));
    // --limit 1 ends it at the first event it prints; --idle only keeps a broken filter from hanging.
    const tail = startEvlog([
      'tail',
      'payments',
      '-f',
      '--limit',
      '1',
      '--idle',
      '5s',
      '-o',
      '{position} {type}',
      '--db',
      db,
    ]);
    // Nothing to print yet: give the tail time to start following before appending.
    await new Promise((resolve) => setTimeout(resolve, 700));
    await appendEvents(db, [
      { topic: 'orders', type: 'Ignored', data: {} },
      { topic: 'payments', type: 'PaymentProcessed', data: {} },
    ]);
    const result = await tail.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('3 PaymentProcessed\n');
  });

  it('stops after --limit events, counting the ones it printed before following', async ({ db }) => {
    await appendEvents(db, numberedEvents(2));
    const tail = startEvlog(['tail', '-f', '--limit', '3', '-o', '{position}', '--db', db], {
      timeoutMs: 15_000,
    });
    await tail.waitForLines(2);
    await appendEvents(db, numberedEvents(3));
    const result = await tail.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('1\n2\n3\n');
  });
});
