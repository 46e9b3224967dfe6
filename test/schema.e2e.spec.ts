import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  appendEvents,
  it,
  runEvlogOk as ok,
  parseLines,
  REPO_ROOT,
  readEvents,
  runEvlog,
  SHOP_EVENTS,
  toNdjson,
} from './support/run-evlog.js';

const SCHEMAS = join(REPO_ROOT, 'fixtures', 'shop', 'schemas');
const SHOP_CONFIG = join(REPO_ROOT, 'fixtures', 'shop', 'evlog.config.mjs');
const schema = (name: string) => join(SCHEMAS, `${name}.json`);

const order = (total: unknown, extra: Record<string, unknown> = {}) => ({
  orderId: 'order-42',
  customer: { id: 'cust-1', name: 'Ana', email: 'ana@example.com' },
  lines: [{ sku: 'sku-mug-blue', qty: 1, unitPrice: 12.5 }],
  total,
  currency: 'EUR',
  ...extra,
});

describe.concurrent('evlog schema', () => {
  it('registers versions, lists and shows them, and treats the same document again as a no-op', async ({ db }) => {
    const first = await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--json', '--db', db]);
    expect(JSON.parse(first.stdout)).toEqual({ type: 'OrderPlaced', version: 1, compat: 'backward' });
    const again = await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    expect(again.stdout).toBe('1\n');
    expect(again.stderr).toContain('identical to version 1; nothing registered');
    const second = await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v2'), '--db', db]);
    expect(second.stdout).toBe('2\n');
    await ok(['schema', 'compat', 'OrderPlaced', 'full-transitive', '--db', db]);
    const list = await ok(['schema', 'list', '--json', '--db', db]);
    expect(parseLines(list.stdout)).toEqual([
      { type: 'OrderPlaced', latestVersion: 2, versions: [1, 2], compat: 'full-transitive' },
    ]);
    const shown = await ok(['schema', 'show', 'OrderPlaced', '--version', '1', '--db', db]);
    expect(JSON.parse(shown.stdout).description).toBe('A customer placed an order (v1).');
    const missing = await runEvlog(['schema', 'show', 'OrderPlaced', '--version', '9', '--db', db]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain('OrderPlaced has no schema version 9');
  });

  it('check: exit 0 when accepted, 4 with one line per reason and the stored events it rejects', async ({ db }) => {
    await appendEvents(db, [{ topic: 'orders', key: 'order-42', type: 'OrderPlaced', data: order(12.5) }]);
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    const accepted = await runEvlog(['schema', 'check', 'OrderPlaced', schema('OrderPlaced.v2'), '--db', db]);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toBe(
      'OrderPlaced v2 would be accepted (backward)\nstored OrderPlaced events: 1 checked, 0 rejected\n',
    );
    const refused = await runEvlog(['schema', 'check', 'OrderPlaced', schema('OrderPlaced.breaking'), '--db', db]);
    expect(refused.code).toBe(4);
    expect(refused.stderr.split('\n')).toEqual([
      'evlog: OrderPlaced v2 is not backward compatible and rejects 1 stored event',
      '  OrderPlaced v2: property "total": type changed from "number" to "string" (backward)',
      '  OrderPlaced v2: property "currency": enum values removed ("GBP") (backward)',
      '  OrderPlaced v2: rejects 1 of 1 stored OrderPlaced events:',
      '    position 1: $.total: must be string (type), got 12.5',
      expect.stringMatching(/^hint: /),
      '',
    ]);
    const register = await runEvlog(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.breaking'), '--db', db]);
    expect(register.code).toBe(4);
    expect(parseLines((await ok(['schema', 'list', '--json', '--db', db])).stdout)[0]?.latestVersion).toBe(1);
  });

  it.for([
    ['backward', 4],
    ['forward', 4],
    ['full', 4],
    ['backward-transitive', 4],
    ['forward-transitive', 4],
    ['full-transitive', 4],
    ['none', 0],
  ] as const)('the breaking fixture change under %s exits %i', async ([mode, code], { db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--compat', mode, '--db', db]);
    const result = await runEvlog(['schema', 'check', 'OrderPlaced', schema('OrderPlaced.breaking'), '--db', db]);
    expect(result.code).toBe(code);
  });

  it('the data-aware check counts the shop events a schema rejects; under none it registers anyway', async ({ db }) => {
    await ok(['append', '--batch', SHOP_EVENTS, '--db', db]);
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--compat', 'none', '--db', db]);
    const check = await ok(['schema', 'check', 'OrderPlaced', schema('OrderPlaced.breaking'), '--json', '--db', db]);
    const report = JSON.parse(check.stdout);
    expect(report.accepted).toBe(true);
    expect(report.events.checked).toBe(15);
    expect(report.events.rejected).toBe(15);
    expect(report.events.first.map((e: { position: number }) => e.position)).toEqual([1, 5, 8, 15, 20]);
  });
});

describe.concurrent('validation on append', () => {
  it('refuses a bad event with exit 3 and one line per violation; stamps a good one', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    const bad = await runEvlog([
      'append',
      'orders',
      JSON.stringify({ ...order('12'), currency: 'CHF' }),
      '-t',
      'OrderPlaced',
      '--db',
      db,
    ]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain('evlog: OrderPlaced v1: the data breaks its schema (2 violations)\n');
    expect(bad.stderr).toContain('  $.total: must be number (type), got "12"\n');
    expect(bad.stderr).toContain('  $.currency: must be equal to one of the allowed values (enum), got "CHF"\n');
    await ok(['append', 'orders', JSON.stringify(order(12)), '-t', 'OrderPlaced', '--db', db]);
    await ok(['append', 'misc', '{}', '-t', 'NoSchema', '--db', db]);
    expect((await readEvents(db)).map((e) => [e.type, e.schemaVersion])).toEqual([
      ['OrderPlaced', 1],
      ['NoSchema', null],
    ]);
  });

  it('validates against --schema-version', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v2'), '--db', db]);
    const v2Only = JSON.stringify(order(1, { channel: 'store' }));
    const asV1 = await runEvlog(['append', 'o', v2Only, '-t', 'OrderPlaced', '--schema-version', '1', '--db', db]);
    expect(asV1.code).toBe(3);
    expect(asV1.stderr).toContain(
      '$.channel: is not allowed (no additional properties) (additionalProperties), got "store"',
    );
    await ok(['append', 'o', v2Only, '-t', 'OrderPlaced', '--schema-version', '2', '--db', db]);
    const missing = await runEvlog(['append', 'o', v2Only, '-t', 'OrderPlaced', '--schema-version', '3', '--db', db]);
    expect(missing.code).toBe(5);
    expect((await readEvents(db)).map((e) => e.schemaVersion)).toEqual([2]);
  });

  it('in a batch, names the line of each violation and appends nothing', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    const lines = [
      { topic: 'orders', type: 'OrderPlaced', data: order(1) },
      { topic: 'orders', type: 'Untyped', data: {} },
      { topic: 'orders', type: 'OrderPlaced', data: order(-1, { lines: [] }) },
      { topic: 'orders', type: 'OrderPlaced', data: order(3) },
    ];
    const result = await runEvlog(['append', '--batch', '--db', db], { input: toNdjson(lines) });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('evlog: line 3: OrderPlaced v1: the data breaks its schema (2 violations)\n');
    expect(result.stderr).toContain('  line 3: $.lines: must NOT have fewer than 1 items (minItems), got []\n');
    expect(result.stderr).toContain('  line 3: $.total: must be >= 0 (minimum), got -1\n');
    expect(await readEvents(db)).toEqual([]);

    const skipped = await runEvlog(['append', '--batch', '--on-invalid', 'skip', '--db', db], {
      input: toNdjson(lines),
    });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toBe('appended 3 events at positions 1-3, 1 invalid line skipped\n');
    expect((await readEvents(db)).map((e) => [e.type, e.schemaVersion])).toEqual([
      ['OrderPlaced', 1],
      ['Untyped', null],
      ['OrderPlaced', 1],
    ]);
  });

  it('in a batch, names the line that asks for a schema version the store does not have', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    const lines = [
      { topic: 'orders', type: 'OrderPlaced', data: order(1) },
      { topic: 'orders', type: 'OrderPlaced', data: order(2), schemaVersion: 7 },
    ];
    const result = await runEvlog(['append', '--batch', '--db', db], { input: toNdjson(lines) });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('evlog: line 2: OrderPlaced has no schema version 7 (latest: 1)\n');
    expect(await readEvents(db)).toEqual([]);
  });

  it('in a batch, --schema-version applies to the lines that name none', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v2'), '--db', db]);
    const line = { topic: 'orders', type: 'OrderPlaced', data: order(1, { channel: 'store' }) };
    const asV1 = await runEvlog(['append', '--batch', '--schema-version', '1', '--db', db], {
      input: toNdjson([line]),
    });
    expect(asV1.code).toBe(3);
    expect(asV1.stderr).toContain('line 1: OrderPlaced v1: the data breaks its schema');
    await ok(['append', '--batch', '--db', db], { input: toNdjson([line]) });
    expect((await readEvents(db)).map((e) => e.schemaVersion)).toEqual([2]);
  });

  it('refuses --schema-version for a type that has no schemas (exit 5)', async ({ db }) => {
    const result = await runEvlog(['append', 'o', '{}', '-t', 'Untyped', '--schema-version', '7', '--db', db]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('--schema-version 7: Untyped has no schemas');
    expect(await readEvents(db)).toEqual([]);
  });

  it('names every bad line of a refused batch, not only the first', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    const lines = [
      toNdjson([{ topic: 'orders', type: 'OrderPlaced', data: order('one') }]),
      toNdjson([{ topic: 'orders', type: 'OrderPlaced', data: order(2) }]),
      '{not json\n',
    ].join('');
    const result = await runEvlog(['append', '--batch', '--db', db], { input: lines });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('evlog: 2 invalid lines; line 1: OrderPlaced v1: the data breaks its schema');
    expect(result.stderr).toContain('  line 3: the line is not valid JSON');
    expect(await readEvents(db)).toEqual([]);
  });

  it('in a strict store, refuses types without a schema, with a hint to register one', async ({ db }) => {
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    await ok(['schema', 'strict', 'on', '--db', db]);
    expect((await ok(['schema', 'strict', '--db', db])).stdout).toBe('on\n');
    const refused = await runEvlog(['append', 'misc', '{}', '-t', 'Unregistered', '--db', db]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('evlog: event type "Unregistered" has no schema, and this store is strict\n');
    expect(refused.stderr).toContain('hint: register one with `evlog schema register Unregistered <schema.json>`');
    await ok(['append', 'orders', JSON.stringify(order(1)), '-t', 'OrderPlaced', '--db', db]);
    await ok(['schema', 'strict', 'off', '--db', db]);
    await ok(['append', 'misc', '{}', '-t', 'Unregistered', '--db', db]);
    expect((await readEvents(db)).map((e) => e.type)).toEqual(['OrderPlaced', 'Unregistered']);
  });
});

describe.concurrent('upcasting on read', () => {
  async function shopWithTwoVersions(tmp: string, db: string) {
    copyFileSync(SHOP_CONFIG, join(tmp, 'evlog.config.mjs'));
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v1'), '--db', db]);
    await ok(['append', 'orders', JSON.stringify(order(1)), '-t', 'OrderPlaced', '-k', 'order-1', '--db', db]);
    await ok(['schema', 'register', 'OrderPlaced', schema('OrderPlaced.v2'), '--db', db]);
    await ok(['append', 'orders', JSON.stringify(order(2, { channel: 'phone' })), '-t', 'OrderPlaced', '--db', db]);
  }

  it('tail and export show v1 events upcast to v2; --raw shows the stored form', async ({ tmp, db }) => {
    await shopWithTwoVersions(tmp, db);
    const tail = await ok(['tail', '--from', 'beginning', '-o', '{schemaVersion} {data.channel}', '--db', db], {
      cwd: tmp,
    });
    expect(tail.stdout).toBe('2 web\n2 phone\n');
    const raw = await ok(['tail', '--from', 'beginning', '-o', '{schemaVersion} {data.channel}', '--raw', '--db', db], {
      cwd: tmp,
    });
    expect(raw.stdout).toBe('1 \n2 phone\n');
    const exported = parseLines((await ok(['export', '--db', db], { cwd: tmp })).stdout);
    expect(exported.map((e) => [e.schemaVersion, (e.data as { channel: string }).channel])).toEqual([
      [2, 'web'],
      [2, 'phone'],
    ]);
    const exportedRaw = parseLines((await ok(['export', '--raw', '--db', db], { cwd: tmp })).stdout);
    expect(exportedRaw[0]?.schemaVersion).toBe(1);
    expect(exportedRaw[0]?.data).toEqual(order(1));
  });

  it('a throwing upcaster fails the read, naming the upcaster and the position', async ({ tmp, db }) => {
    await shopWithTwoVersions(tmp, db);
    const config = join(tmp, 'throwing.mjs');
    writeFileSync(
      config,
      'export default { upcasters: { OrderPlaced: { 1: () => { throw new Error("no channel") } } } }',
    );
    const result = await runEvlog(['tail', '--from', 'beginning', '--config', config, '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `evlog: the upcaster OrderPlaced 1→2 (in ${config}) threw on the event at position 1: no channel`,
    );
  });

  it('finds the store through db in the config file', async ({ tmp }) => {
    writeFileSync(join(tmp, 'evlog.config.json'), JSON.stringify({ db: 'from-config.db' }));
    await ok(['append', 'misc', '{}', '-t', 'Thing'], { cwd: tmp });
    const events = await readEvents(join(tmp, 'from-config.db'));
    expect(events.map((e) => e.type)).toEqual(['Thing']);
  });
});
