// @ts-check
/**
 * Projection benchmark: rebuild speed and point-in-time replay, each beside a baseline from
 * the same run, against the BUILT code (dist/ and bin/evlog.js).
 *
 *   npm run build && node bench/projections.mjs                 # 1,000,000 shop events
 *   node bench/projections.mjs --events 100000                   # a quick run
 *
 * Targets (issue 4): a rebuild over 1M events at ≥ 150k events/s, beside a raw read of the
 * same events with JSON.parse into the same reducer; a replay to any point of 1M events in
 * ≤ 0.5 s with snapshots (whole `evlog replay` process, start-up included); without
 * snapshots, stated. It is a report: exit 0 even when a target is missed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { generateEvents } from '../fixtures/generate-events.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'evlog.js');
const argv = process.argv.slice(2);
const eventsArg = argv.indexOf('--events');
const EVENTS = eventsArg >= 0 ? Number(argv[eventsArg + 1]) : 1_000_000;
if (!Number.isSafeInteger(EVENTS) || EVENTS < 1000) {
  console.error('bench: --events must be a whole number of at least 1000');
  process.exit(2);
}
const REPLAY_POINTS = 8;

// The reducer both sides run, over every event: per stream key (an order, or a product on
// inventory): events seen and the last type.
const REDUCER_SOURCE = `{
  name: 'per-key', version: 1,
  key: (event) => event.key,
  initialState: () => ({ events: 0, last: null }),
  evolve: (state, event) => ({ events: state.events + 1, last: event.type }),
}`;
const SHOP_CONFIG = join(ROOT, 'fixtures', 'shop', 'evlog.config.mjs');

const { openStore } = await import(join(ROOT, 'dist', 'index.js'));
const folder = mkdtempSync(join(tmpdir(), 'evlog-bench-projections-'));
const db = join(folder, 'bench.db');
const config = join(folder, 'evlog.config.mjs');
writeFileSync(
  config,
  `import shop from ${JSON.stringify(SHOP_CONFIG)};\nexport default { ...shop, projections: [...shop.projections, ${REDUCER_SOURCE}] };\n`,
);

/** @param {string[]} args */
function evlog(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args, '--db', db, '--config', config], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`evlog ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { seconds, stdout: result.stdout };
}

const fmt = (/** @type {number} */ n) => Math.round(n).toLocaleString('en-US');
const rows = /** @type {[string, string, string, string][]} */ ([]);

try {
  const buildStarted = Date.now();
  process.stderr.write(`building a store of ${fmt(EVENTS)} shop events…\n`);
  const store = openStore(db);
  let batch = [];
  for (const event of generateEvents(EVENTS, { seed: 7, dataBytes: 200 })) {
    batch.push(event);
    if (batch.length === 10_000) {
      await store.appendEvents(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.appendEvents(batch);
  store.close();
  process.stderr.write(`built in ${((Date.now() - buildStarted) / 1000).toFixed(1)} s\n`);

  // Baseline: a raw read of the same events, JSON.parse, into the same reducer (in memory).
  const baseline = rawFold();
  const rebuild = evlog(['projection', 'rebuild', 'per-key', '--json']);
  const report = JSON.parse(rebuild.stdout);
  rows.push([
    `rebuild per-key over ${fmt(EVENTS)} events (${fmt(report.events)} folded, ${fmt(baseline.keys)} keys)`,
    `${fmt(EVENTS / rebuild.seconds)} events/s (${rebuild.seconds.toFixed(2)} s)`,
    `${fmt(EVENTS / baseline.seconds)} events/s (${baseline.seconds.toFixed(2)} s)`,
    EVENTS / rebuild.seconds >= 150_000 ? 'met (≥ 150k/s)' : 'MISSED (≥ 150k/s)',
  ]);
  for (const name of ['order-totals', 'stock']) {
    const run = evlog(['projection', 'rebuild', name, '--json']);
    rows.push([`rebuild ${name}`, `${fmt(EVENTS / run.seconds)} events/s (${run.seconds.toFixed(2)} s)`, '', '']);
  }

  const idle = evlog(['topics', '--json']);
  for (const name of ['order-totals', 'stock', 'per-key']) {
    const times = [];
    const points = Array.from({ length: REPLAY_POINTS }, (_, i) =>
      Math.round(((i + 1) * EVENTS) / REPLAY_POINTS - 7 * i),
    );
    for (const point of points)
      times.push(evlog(['replay', '--projection', name, '--until', String(point), '--json']).seconds);
    const scratch = evlog(['replay', '--projection', name, '--until', String(EVENTS), '--no-snapshots', '--json']);
    const worst = Math.max(...times);
    rows.push([
      `replay ${name} to ${REPLAY_POINTS} points, with snapshots (worst)`,
      `${worst.toFixed(3)} s`,
      `no snapshots, to the head: ${scratch.seconds.toFixed(2)} s; evlog topics: ${idle.seconds.toFixed(3)} s`,
      worst <= 0.5 ? 'met (≤ 0.5 s)' : 'MISSED (≤ 0.5 s)',
    ]);
  }
  console.log(`\nProjections, ${fmt(EVENTS)} events (node ${process.version})\n`);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => String(row[i]).length), 8));
  const header = ['measure', 'evlog', 'baseline (same run)', 'target'];
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
} finally {
  rmSync(folder, { recursive: true, force: true });
}

/** Reads every event with better-sqlite3, parses it, and folds it with the same reducer. */
function rawFold() {
  const started = process.hrtime.bigint();
  const sqlite = new Database(db, { readonly: true });
  /** @param {string} sql */
  const byId = (sql) => new Map(/** @type {[number, string][]} */ (sqlite.prepare(sql).raw().all()));
  const topics = byId('SELECT topic_id, name FROM topics');
  const types = byId('SELECT type_id, name FROM event_types');
  const keys = byId('SELECT stream_id, key FROM streams');
  const states = new Map();
  const rows = sqlite
    .prepare(
      'SELECT position, id, stream_id, version, topic_id, type_id, schema_version, time, data, metadata FROM events ORDER BY position',
    )
    .raw()
    .iterate();
  for (const item of rows) {
    const row =
      /** @type {[number, string, number, number, number, number, number | null, number, string, string | null]} */ (
        item
      );
    const topic = topics.get(row[4]);
    const event = {
      position: row[0],
      id: row[1],
      topic,
      key: keys.get(row[2]),
      version: row[3],
      type: types.get(row[5]),
      schemaVersion: row[6],
      time: row[7],
      data: JSON.parse(row[8]),
      metadata: row[9] === null ? {} : JSON.parse(row[9]),
    };
    const state = states.get(event.key) ?? { events: 0, last: null };
    states.set(event.key, { events: state.events + 1, last: event.type });
  }
  sqlite.close();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, keys: states.size };
}
