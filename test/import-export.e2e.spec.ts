import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  it,
  parseLines,
  readEvents,
  runEvlog,
  SHOP_EVENTS,
  type StoredEventJson,
  toNdjson,
  useSharedStore,
} from './support/run-evlog.js';

/**
 * A store with the shop fixture (80 events with ids and metadata, across topics and
 * streams) plus events the fixture lacks: keyless, a schema version, non-ASCII data, no
 * metadata, a metadata "source", data that is not an object. Built once; the tests only read it.
 */
const EXTRA_EVENTS = [
  { topic: 'audit', type: 'StoreChecked', data: { checked: true } },
  {
    topic: 'orders',
    key: 'order-9',
    type: 'OrderPlaced',
    schemaVersion: 2,
    data: { total: 9.99, note: 'Grüße, 東京 ✓' },
  },
  { topic: 'orders', key: 'order-9', type: 'OrderPinged', data: null, metadata: { source: 'cli' } },
];
const SOURCE_EVENTS = 83;

const source = useSharedStore(async (db) => {
  // The fixture imported with recorded times spread over days (import keeps them), then
  // the extra events appended now.
  const start = Date.parse('2026-11-02T08:00:00.000Z');
  const timed = readFileSync(SHOP_EVENTS, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line, i) => ({ ...JSON.parse(line), time: new Date(start + i * 3_607_001).toISOString() }));
  const imported = await runEvlog(['import', '-', '--db', db], { input: toNdjson(timed) });
  if (imported.code !== 0) throw new Error(`building the source store failed: ${imported.stderr}`);
  const appended = await runEvlog(['append', '--batch', '--db', db], { input: toNdjson(EXTRA_EVENTS) });
  if (appended.code !== 0) throw new Error(`building the source store failed: ${appended.stderr}`);
});

async function exportStore(db: string, ...args: string[]): Promise<string> {
  const result = await runEvlog(['export', '--db', db, ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

async function importFile(db: string, file: string, ...args: string[]) {
  const result = await runEvlog(['import', file, '--db', db, ...args]);
  expect(result.code).toBe(0);
  return result;
}

describe.concurrent('export', () => {
  it('writes every event as the tail --json envelope, one per line, in position order', async () => {
    const exported = parseLines<StoredEventJson>(await exportStore(source()));
    expect(exported).toHaveLength(SOURCE_EVENTS);
    expect(exported.map((e) => e.position)).toEqual(Array.from({ length: SOURCE_EVENTS }, (_, i) => i + 1));
    // import kept the recorded times it was given.
    expect(exported[79]?.time).toBe(new Date(Date.parse('2026-11-02T08:00:00.000Z') + 79 * 3_607_001).toISOString());
    const tailed = await readEvents(source());
    expect(exported).toEqual(tailed);
  });

  it('writes only the events the filters choose', async () => {
    const exported = parseLines<StoredEventJson>(await exportStore(source(), 'payments', '--type', 'PaymentFailed'));
    expect(exported.length).toBeGreaterThan(0);
    expect(exported.every((e) => e.topic === 'payments' && e.type === 'PaymentFailed')).toBe(true);
    const all = parseLines<StoredEventJson>(await exportStore(source()));
    expect(exported).toEqual(all.filter((e) => e.topic === 'payments' && e.type === 'PaymentFailed'));
  });
});

describe.concurrent('export then import into an empty store', () => {
  it('round-trips NDJSON exactly: the re-export is byte-identical', async ({ tmp }) => {
    const file = join(tmp, 'backup.ndjson');
    writeFileSync(file, await exportStore(source()));
    const restored = join(tmp, 'restored.db');
    const result = await importFile(restored, file, '--json');
    expect(JSON.parse(result.stdout)).toEqual({ imported: SOURCE_EVENTS, duplicates: 0, skipped: 0 });
    expect(await exportStore(restored)).toBe(readFileSync(file, 'utf8'));
  });

  it('round-trips CloudEvents exactly: the re-export is byte-identical, and so is the NDJSON export', async ({
    tmp,
  }) => {
    const file = join(tmp, 'backup.cloudevents.ndjson');
    writeFileSync(file, await exportStore(source(), '-o', 'cloudevents'));
    const restored = join(tmp, 'restored.db');
    await importFile(restored, file);
    expect(await exportStore(restored, '-o', 'cloudevents')).toBe(readFileSync(file, 'utf8'));
    expect(await exportStore(restored)).toBe(await exportStore(source()));
  });

  it('imports from stdin with "-"', async ({ tmp }) => {
    const exported = await exportStore(source());
    const restored = join(tmp, 'restored.db');
    const result = await runEvlog(['import', '-', '--db', restored], { input: exported });
    expect(result.code).toBe(0);
    expect(await exportStore(restored)).toBe(exported);
  });

  it('appends nothing when the same file is imported a second time', async ({ tmp }) => {
    const file = join(tmp, 'backup.ndjson');
    writeFileSync(file, await exportStore(source()));
    const restored = join(tmp, 'restored.db');
    await importFile(restored, file);
    const before = await exportStore(restored);
    const again = await importFile(restored, file, '--json');
    expect(JSON.parse(again.stdout)).toEqual({ imported: 0, duplicates: SOURCE_EVENTS, skipped: 0 });
    expect(await exportStore(restored)).toBe(before);
  });

  it('appends nothing when a CloudEvents export is imported a second time', async ({ tmp }) => {
    const file = join(tmp, 'backup.cloudevents.ndjson');
    writeFileSync(file, await exportStore(source(), '-o', 'cloudevents'));
    const restored = join(tmp, 'restored.db');
    await importFile(restored, file);
    const before = await exportStore(restored);
    await importFile(restored, file);
    expect(await exportStore(restored)).toBe(before);
  });

  it('refuses a file with a bad line (exit 3), names the line and imports nothing', async ({ tmp }) => {
    const lines = (await exportStore(source())).trimEnd().split('\n');
    lines[41] = '{"position":42,"topic":"orders"';
    const file = join(tmp, 'broken.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const restored = join(tmp, 'restored.db');
    const result = await runEvlog(['import', file, '--db', restored]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/line 42\b/);
    const stats = await runEvlog(['stats', '--json', '--db', restored]);
    // The store may or may not exist after a refused import, but it holds no events.
    if (stats.code === 0) expect(JSON.parse(stats.stdout)).toMatchObject({ events: 0 });
    else expect(stats.code).toBe(5);
  });

  it('says so (exit 5) when the file to import does not exist', async ({ tmp }) => {
    const result = await runEvlog(['import', join(tmp, 'nope.ndjson'), '--db', join(tmp, 'restored.db')]);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('nope.ndjson');
  });
});
