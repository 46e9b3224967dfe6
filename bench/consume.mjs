// @ts-check
/**
 * Consumer benchmark (issue 5): `evlog consume` over a 1M-event single-topic store, each
 * figure beside a floor measured in the same run, printed as a table like bench/run.mjs and
 * written to .bench/consume.json.
 *
 *   npm run build && node bench/consume.mjs           # 1,000,000 events, about 1.5 minutes
 *   node bench/consume.mjs --events 100000            # a quick run
 *   node bench/consume.mjs --full                     # the per-event run over all events too
 *
 * - `evlog consume --handler noop.mjs` (a module whose default export does nothing), with the
 *   default checkpoint after each event, over the first 100,000 events of the store (all of
 *   them with --full; its rate does not change along the topic, and 1M at its speed would
 *   take the run past two minutes): events/s against the 100k target, beside two floors
 *   in raw better-sqlite3 on the same store: one autocommit UPDATE of a checkpoint per event
 *   with synchronous=NORMAL (what a checkpoint per event costs at least), and reading the
 *   topic page by page with JSON.parse (what delivering costs at least).
 * - The same with `--checkpoint-every 1000`.
 * - `--exec true` on 2,000 events: events/s and ms per event, beside the start of a bare
 *   `node -e ''` and of `/bin/sh -c true`.
 *
 * It runs the BUILT code (dist/, bin/evlog.js) as a user would, whole process included, in a
 * temporary folder deleted at the end. A report, not a test: exit 0 even when a target is
 * missed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { generateEvents } from '../fixtures/generate-events.mjs';
import { layoutTable } from './table.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'evlog.js');
const TARGET = 100_000;
const EXEC_EVENTS = 2000;
const PAGE_SIZE = 500;
/** The per-event UPDATE floor stops after this many updates or seconds: its rate is what counts. */
const FLOOR_UPDATES = 300_000;
const FLOOR_SECONDS = 5;
/** The per-event consume run stops after this many events, unless --full. */
const PER_EVENT_EVENTS = 100_000;
const NODE_RUNS = 10;
const SH_RUNS = 100;

const argv = process.argv.slice(2);
const eventsArg = argv.indexOf('--events');
const EVENTS = eventsArg >= 0 ? Number(argv[eventsArg + 1]) : 1_000_000;
if (!Number.isSafeInteger(EVENTS) || EVENTS < EXEC_EVENTS) {
  console.error(`bench: --events must be a whole number of at least ${EXEC_EVENTS}`);
  process.exit(2);
}
const PER_EVENT = argv.includes('--full') ? EVENTS : Math.min(EVENTS, PER_EVENT_EVENTS);

const fmt = (/** @type {number} */ n) => Math.round(n).toLocaleString('en-US');
/** @param {string} message */
const progress = (message) =>
  process.stderr.write(`bench: [${((performance.now() - startedAt) / 1000).toFixed(0)} s] ${message}\n`);

const startedAt = performance.now();
const loadAtStart = loadavg()[0] ?? 0;
const folder = mkdtempSync(join(tmpdir(), 'evlog-bench-consume-'));
const db = join(folder, 'bench.db');
const noop = join(folder, 'noop.mjs');
writeFileSync(noop, 'export default async function noop() {}\n');

/**
 * @typedef {object} Row
 * @property {string} id
 * @property {string} label
 * @property {string} value
 * @property {string} baseline
 * @property {string} ratio
 * @property {string} target
 * @property {boolean | null} pass  null: no target, for information
 * @property {Record<string, number>} figures
 */
/** @type {Row[]} */
const rows = [];

try {
  progress(`building a store of ${fmt(EVENTS)} events on one topic (not timed)…`);
  await buildStore();

  progress(`1/4 evlog consume, module handler, checkpoint after each event, ${fmt(PER_EVENT)} events…`);
  const perEvent = consume('noop', ['--handler', noop, '--limit', String(PER_EVENT)], PER_EVENT);
  progress('2/4 floors: raw UPDATE per event (synchronous=NORMAL), raw paged read + JSON.parse…');
  const update = updateFloor();
  const read = readFloor();
  rows.push({
    id: 'consume.module',
    label: `consume --handler (no-op), checkpoint per event, ${fmt(PER_EVENT)} of ${fmt(EVENTS)} events`,
    value: `${fmt(perEvent.rate)} ev/s`,
    baseline: `${fmt(update.rate)} ev/s  raw UPDATE autocommit per event; ${fmt(read.rate)} ev/s  raw paged read + JSON.parse`,
    ratio: `${(perEvent.rate / update.rate).toFixed(2)}x of UPDATE floor`,
    target: `≥ ${fmt(TARGET)} ev/s`,
    pass: perEvent.rate >= TARGET,
    figures: { rate: perEvent.rate, seconds: perEvent.seconds, updateFloor: update.rate, readFloor: read.rate },
  });

  progress(`3/4 evlog consume, module handler, --checkpoint-every 1000, ${fmt(EVENTS)} events…`);
  const batched = consume('noop-batched', ['--handler', noop, '--checkpoint-every', '1000']);
  rows.push({
    id: 'consume.module.batched',
    label: `consume --handler (no-op) --checkpoint-every 1000, ${fmt(EVENTS)} events`,
    value: `${fmt(batched.rate)} ev/s`,
    baseline: `${fmt(read.rate)} ev/s  raw paged read + JSON.parse`,
    ratio: `${(batched.rate / read.rate).toFixed(2)}x of read floor`,
    target: `≥ ${fmt(TARGET)} ev/s`,
    pass: batched.rate >= TARGET,
    figures: { rate: batched.rate, seconds: batched.seconds, readFloor: read.rate },
  });

  progress(`4/4 evlog consume --exec true on ${fmt(EXEC_EVENTS)} events; node -e '' and /bin/sh -c true starts…`);
  const exec = consume('exec', ['--exec', 'true', '--limit', String(EXEC_EVENTS)], EXEC_EVENTS);
  const nodeStart = medianStart(process.execPath, ['-e', ''], NODE_RUNS);
  const shStart = medianStart('/bin/sh', ['-c', 'true'], SH_RUNS);
  const msPerEvent = (exec.seconds * 1000) / EXEC_EVENTS;
  rows.push({
    id: 'consume.exec',
    label: `consume --exec true, ${fmt(EXEC_EVENTS)} events`,
    value: `${fmt(exec.rate)} ev/s, ${msPerEvent.toFixed(2)} ms/event`,
    baseline: `/bin/sh -c true ${shStart.toFixed(2)} ms; node -e '' ${nodeStart.toFixed(1)} ms (median start)`,
    ratio: `${(msPerEvent / shStart).toFixed(2)}x of sh start`,
    target: 'stated',
    pass: null,
    figures: { rate: exec.rate, msPerEvent, shStartMs: shStart, nodeStartMs: nodeStart },
  });
} finally {
  rmSync(folder, { recursive: true, force: true });
}

const totalSeconds = (performance.now() - startedAt) / 1000;
printReport();
writeResults();

/** 1M shop events, all on topic `orders`, appended through the library in batches of 10,000. */
async function buildStore() {
  const { openStore } = await import(new URL('../dist/index.js', import.meta.url).href);
  const store = openStore(db);
  let batch = [];
  for (const event of generateEvents(EVENTS, { seed: 7, dataBytes: 200 })) {
    batch.push({ ...event, topic: 'orders' });
    if (batch.length === 10_000) {
      await store.appendEvents(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.appendEvents(batch);
  store.close();
}

/**
 * Runs `evlog consume <group> --topic orders …` to the end; whole process, start-up included.
 * @param {string} group
 * @param {string[]} args
 * @param {number} expected  events it must report
 */
function consume(group, args, expected = EVENTS) {
  const started = performance.now();
  const result = spawnSync(
    process.execPath,
    [BIN, 'consume', group, '--topic', 'orders', ...args, '--db', db, '--json'],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`evlog consume ${group} exited ${result.status}: ${result.stderr}`);
  const summary = JSON.parse(result.stdout);
  if (summary.events !== expected || summary.succeeded !== expected) {
    throw new Error(`evlog consume ${group} did ${summary.events} events, not ${expected}: ${result.stdout}`);
  }
  return { seconds, rate: expected / seconds };
}

/**
 * The cost floor of a checkpoint per event: one autocommit UPDATE of a consumer group's
 * checkpoint per event, on the same store, with the durability consume uses (WAL,
 * synchronous=NORMAL).
 */
function updateFloor() {
  const sqlite = new Database(db);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  const now = Date.now();
  sqlite
    .prepare(
      `INSERT INTO consumer_groups (name, topic, handler, checkpoint, created_at, updated_at) VALUES ('floor', 'orders', '{}', 0, ?, ?)`,
    )
    .run(now, now);
  const update = sqlite.prepare('UPDATE consumer_groups SET checkpoint = ?, updated_at = ? WHERE name = ?');
  const limit = Math.min(FLOOR_UPDATES, PER_EVENT);
  const deadline = performance.now() + FLOOR_SECONDS * 1000;
  const started = performance.now();
  let done = 0;
  while (done < limit) {
    update.run(++done, Date.now(), 'floor');
    if (done % 1000 === 0 && performance.now() > deadline) break;
  }
  const seconds = (performance.now() - started) / 1000;
  sqlite.close();
  return { rate: done / seconds, updates: done };
}

/** The read floor: the topic page by page (as consume reads it), each event's JSON parsed into a record. */
function readFloor() {
  const started = performance.now();
  const sqlite = new Database(db, { readonly: true });
  /** @param {string} sql */
  const byId = (sql) => new Map(/** @type {[number, string][]} */ (sqlite.prepare(sql).raw().all()));
  const types = byId('SELECT type_id, name FROM event_types');
  const keys = byId('SELECT stream_id, key FROM streams');
  const topicId = sqlite.prepare("SELECT topic_id FROM topics WHERE name = 'orders'").pluck().get();
  const page = sqlite
    .prepare(
      `SELECT position, id, stream_id, version, type_id, schema_version, time, data, metadata FROM events
       WHERE topic_id = ? AND position > ? ORDER BY position LIMIT ${PAGE_SIZE}`,
    )
    .raw();
  let after = 0;
  let count = 0;
  for (;;) {
    const rows = /** @type {any[][]} */ (page.all(topicId, after));
    for (const row of rows) {
      const record = {
        position: row[0],
        id: row[1],
        topic: 'orders',
        key: keys.get(row[2]),
        version: row[3],
        type: types.get(row[4]),
        schemaVersion: row[5],
        time: row[6],
        data: JSON.parse(row[7]),
        metadata: row[8] === null ? {} : JSON.parse(row[8]),
      };
      after = record.position;
      count++;
    }
    if (rows.length < PAGE_SIZE) break;
  }
  sqlite.close();
  const seconds = (performance.now() - started) / 1000;
  if (count !== EVENTS) throw new Error(`the read floor read ${count} events, not ${EVENTS}`);
  return { rate: count / seconds };
}

/**
 * Median wall time of starting a command and waiting for it to end, in ms.
 * @param {string} command
 * @param {string[]} args
 * @param {number} runs
 */
function medianStart(command, args, runs) {
  spawnSync(command, args);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(command, args);
    times.push(performance.now() - started);
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`);
  }
  times.sort((a, b) => a - b);
  return /** @type {number} */ (times[Math.floor(times.length / 2)]);
}

function printReport() {
  const header = ['measure', 'evlog', 'baseline (same run)', 'vs baseline', 'target', 'result'];
  const table = rows.map((row) => [
    row.label,
    row.value,
    row.baseline,
    row.ratio,
    row.target,
    row.pass === null ? 'info' : row.pass ? 'PASS' : 'FAIL',
  ]);
  const laid = layoutTable(header, table, [1, 3]);
  const out = [''];
  out.push(
    `evlog consume benchmark: ${fmt(EVENTS)} events of ~200 B data on one topic, node ${process.version}, ` +
      `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
  );
  if (loadAtStart > cpus().length / 2) {
    out.push(
      `Note: the machine was busy when the run started (load average ${loadAtStart.toFixed(1)} on ${cpus().length} cores): ` +
        'figures are lower and noisier than on an idle machine.',
    );
  }
  out.push('');
  out.push(laid.header, laid.rule, ...laid.rows);
  const failed = rows.filter((row) => row.pass === false);
  out.push('');
  if (failed.length === 0) out.push(`All ${rows.filter((r) => r.pass !== null).length} targets met.`);
  else {
    out.push(`${failed.length} TARGET${failed.length === 1 ? '' : 'S'} MISSED:`);
    for (const row of failed) out.push(`  FAIL  ${row.label}: ${row.value} (target ${row.target})`);
  }
  out.push(`Run took ${totalSeconds.toFixed(0)} s. Results: .bench/consume.json`);
  process.stdout.write(`${out.join('\n')}\n`);
}

function writeResults() {
  const dir = join(ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  const document = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim(),
    events: EVENTS,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg()[0],
    seconds: totalSeconds,
    passed: rows.every((row) => row.pass !== false),
    results: rows,
  };
  writeFileSync(join(dir, 'consume.json'), `${JSON.stringify(document, null, 2)}\n`);
}
