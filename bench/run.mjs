// @ts-check
/**
 * evlog benchmark: the performance targets of the issue, each measured beside a baseline
 * taken in the same run, printed as a table and written to .bench/results.json.
 *
 *   npm run bench                          # builds dist/, then 1,000,000 events
 *   node bench/run.mjs --events 100000     # a quick run against the current dist/
 *   node bench/run.mjs --help
 *
 * It runs against the BUILT code (dist/ and bin/evlog.js), in a temporary folder that is
 * deleted at the end. It is a report, not a test: the exit code is 0 even when a target is
 * missed (1 only when the benchmark itself cannot run).
 */

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { layoutTable } from './table.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'evlog.js');
const SELF = fileURLToPath(import.meta.url);
const BATCH_SIZE = 1000;
const STREAM_EVENTS = 10_000;
const STREAM_KEY = 'bench-hot';
const DEFAULT_EVENTS = 1_000_000;
const DEFAULT_BASELINE_EVENTS = 200_000;
/**
 * The naive baseline slows down as it grows (its version lookup scans every earlier event of
 * the key, and inventory keys are hot), so it also stops after this many seconds.
 */
const DEFAULT_BASELINE_SECONDS = 20;
const LATENCY_EVENTS = 50;
const IDLE_SECONDS = 5;
const PROCESS_RUNS = 20;
const PROCESS_WARMUPS = 3;
/** "Not falling as the store grows": the last 10% must keep at least this share of the first 10%'s rate. */
const NOT_FALLING_SHARE = 0.8;
/** Our reading of "costs next to nothing while idle": at most 1% of one core. */
const IDLE_CPU_SHARE = 0.01;

// ---------------------------------------------------------------------------------------
// Child mode: the raw better-sqlite3 baseline for `tail --json` / `export` runs as its own
// process, like the CLI, so both figures include a process start.

if (process.argv[2] === '--raw-dump') {
  rawDump(/** @type {string} */ (process.argv[3]));
} else {
  const code = await main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  });
  process.exitCode = code;
}

/**
 * Reads every event's data text in position order and writes it to stdout, one per line.
 * @param {string} file
 */
function rawDump(file) {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare('SELECT data FROM events ORDER BY position').pluck().iterate();
  let buffer = '';
  for (const data of rows) {
    buffer += `${data}\n`;
    if (buffer.length >= 65536) {
      writeSync(1, buffer);
      buffer = '';
    }
  }
  if (buffer !== '') writeSync(1, buffer);
  db.close();
}

// ---------------------------------------------------------------------------------------
// Types

/** @typedef {typeof import('../src/index.js')} Evlog */
/** @typedef {import('../src/index.js').NewEvent} NewEvent */
/** @typedef {import('../src/index.js').EventStore} EventStore */

/**
 * One line of the report.
 * @typedef {object} Row
 * @property {string} id  stable name in results.json
 * @property {string} label
 * @property {number} value
 * @property {'events/s' | 'ms' | 'bytes' | 'x' | 'cpu-ms'} unit
 * @property {string} [valueText]  overrides the formatted value
 * @property {number} [baseline]
 * @property {string} [baselineLabel]
 * @property {string} [baselineText]
 * @property {number} [ratio]  value / baseline (or baseline / value for times)
 * @property {string} [ratioText]
 * @property {string} target  as written in the issue, or "info"
 * @property {boolean | null} pass  null: no target, reported for information
 * @property {Record<string, unknown>} [details]
 */

/**
 * @typedef {object} Options
 * @property {number} events
 * @property {number} baselineEvents
 * @property {number} baselineSeconds
 */

// ---------------------------------------------------------------------------------------
// Main

/** @param {string[]} argv */
async function main(argv) {
  const options = parseArguments(argv);
  if (!options) return 0;
  const startedAt = performance.now();
  const loadAtStart = loadavg()[0] ?? 0;
  const evlog = /** @type {Evlog} */ (await import(new URL('../dist/index.js', import.meta.url).href));
  const fixtures = /** @type {typeof import('../fixtures/generate-events.mjs')} */ (
    await import(new URL('../fixtures/generate-events.mjs', import.meta.url).href)
  );

  const dir = mkdtempSync(join(tmpdir(), 'evlog-bench-'));
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  const onSignal = () => {
    cleanUp();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  /** @type {Row[]} */
  const rows = [];
  try {
    const file = join(dir, 'evlog.db');
    const naiveFile = join(dir, 'naive.db');

    progress(`generating ${fmtInt(options.events)} events (not timed)…`);
    const batches = buildBatches(fixtures, options.events);
    const streamEvents = batches.reduce((n, b) => n + b.filter((e) => e.key === STREAM_KEY).length, 0);

    progress(`1/7 appending ${fmtInt(options.events)} events with evlog in batches of ${fmtInt(BATCH_SIZE)}…`);
    const evlogAppend = await appendWithEvlog(evlog, file, batches);
    progress(
      `1/7 baseline: naive schema, ${fmtInt(options.baselineEvents)} events or ${options.baselineSeconds} s, whichever comes first…`,
    );
    const naiveAppend = appendNaive(naiveFile, batches, options.baselineEvents, options.baselineSeconds);
    rows.push(...appendRows(evlogAppend, naiveAppend, options));

    progress('5/7 bytes on disk…');
    rows.push(diskRow(file, naiveFile, options, naiveAppend.events));
    rmSync(naiveFile, { force: true });

    progress('2/7 full read with JSON.parse…');
    rows.push(await fullReadRow(evlog, file, options.events));

    progress('3/7 evlog tail --json and evlog export to /dev/null…');
    rows.push(...cliReadRows(file, options.events));

    progress(`4/7 reading one ${fmtInt(streamEvents)}-event stream…`);
    rows.push(await streamReadRow(evlog, file, streamEvents, options.events));

    progress(`6/7 process start: evlog append vs node -e '' (${PROCESS_RUNS} runs each)…`);
    rows.push(...processRows(file));

    progress('7/7 tail -f latency and idle CPU (file watch, then EVLOG_WATCH=poll)…');
    rows.push(...(await tailFollowRows(evlog, file)));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanUp();
  }

  const totalSeconds = (performance.now() - startedAt) / 1000;
  printReport(rows, options, totalSeconds, loadAtStart);
  writeResults(rows, options, totalSeconds, loadAtStart);
  return 0;
}

/**
 * @param {string[]} argv
 * @returns {Options | undefined}
 */
function parseArguments(argv) {
  /** @type {Options} */
  const options = {
    events: DEFAULT_EVENTS,
    baselineEvents: DEFAULT_BASELINE_EVENTS,
    baselineSeconds: DEFAULT_BASELINE_SECONDS,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    const [name, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    if (name === '--help' || name === '-h') {
      process.stdout.write(
        'usage: node bench/run.mjs [--events N] [--baseline-events N] [--baseline-seconds S]\n' +
          `  --events N           events in the store (default ${fmtInt(DEFAULT_EVENTS)}; 100k, 1m and 1_000_000 work)\n` +
          `  --baseline-events N  events for the naive append baseline (default ${fmtInt(DEFAULT_BASELINE_EVENTS)}, at most --events)\n` +
          `  --baseline-seconds S stop the naive append baseline after S seconds (default ${DEFAULT_BASELINE_SECONDS})\n`,
      );
      return undefined;
    }
    if (name === '--baseline-seconds') {
      const text = inline ?? argv[++i];
      const value = Number(text);
      if (!(value > 0)) throw new Error(`--baseline-seconds needs a positive number, got ${text ?? 'nothing'}`);
      options.baselineSeconds = value;
      continue;
    }
    if (name === '--events' || name === '--baseline-events') {
      const text = inline ?? argv[++i];
      const value = parseCount(text);
      if (value === undefined || value < BATCH_SIZE) {
        throw new Error(`${name} needs a whole number of at least ${BATCH_SIZE}, got ${text ?? 'nothing'}`);
      }
      if (name === '--events') options.events = value;
      else options.baselineEvents = value;
      continue;
    }
    throw new Error(`unknown argument ${arg} (see --help)`);
  }
  options.baselineEvents = Math.min(options.baselineEvents, options.events);
  return options;
}

/**
 * @param {string | undefined} text  1000000, 1_000_000, 1,000,000, 100k, 1m
 * @returns {number | undefined}
 */
function parseCount(text) {
  if (text === undefined) return undefined;
  const match = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(text.replace(/[_,]/g, ''));
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  const value = Number(match[1]) * (unit === 'k' ? 1e3 : unit === 'm' ? 1e6 : 1);
  return Number.isSafeInteger(value) ? value : undefined;
}

// ---------------------------------------------------------------------------------------
// Events

/**
 * All events in batches of BATCH_SIZE: shop events with the 10k-event stream spread evenly
 * through the batches. Generated before anything is timed.
 * @param {typeof import('../fixtures/generate-events.mjs')} fixtures
 * @param {number} total
 * @returns {NewEvent[][]}
 */
function buildBatches(fixtures, total) {
  const streamCount = Math.min(STREAM_EVENTS, Math.floor(total / 10));
  const shop = fixtures.generateEvents(total - streamCount, { seed: 7, dataBytes: 200 });
  const stream = fixtures.generateStream(streamCount, { key: STREAM_KEY, seed: 7, dataBytes: 200 });
  const batchCount = Math.ceil(total / BATCH_SIZE);
  /** @type {NewEvent[][]} */
  const batches = [];
  let streamTaken = 0;
  for (let b = 0; b < batchCount; b++) {
    const size = Math.min(BATCH_SIZE, total - b * BATCH_SIZE);
    const streamHere = Math.floor(((b + 1) * streamCount) / batchCount) - streamTaken;
    /** @type {NewEvent[]} */
    const batch = [];
    // Place the stream's events at even gaps inside the batch.
    const every = streamHere > 0 ? Math.floor(size / streamHere) : Number.POSITIVE_INFINITY;
    let placed = 0;
    for (let i = 0; i < size; i++) {
      const fromStream = placed < streamHere && (i % every === every - 1 || size - i <= streamHere - placed);
      const next = fromStream ? stream.next() : shop.next();
      if (next.done) throw new Error('the generator ran out of events');
      batch.push(/** @type {NewEvent} */ (next.value));
      if (fromStream) placed++;
    }
    streamTaken += placed;
    batches.push(batch);
  }
  return batches;
}

// ---------------------------------------------------------------------------------------
// 1. Batched append

/**
 * @typedef {object} AppendRun
 * @property {number} events
 * @property {number} ms  time inside the append calls only
 * @property {number} firstRate  events/s over the first 10% of the batches
 * @property {number} lastRate  events/s over the last 10% of the batches
 * @property {number} [cpuMs]  CPU time of this process over the run (user + system)
 */

/**
 * @param {number[]} batchMs
 * @param {number[]} batchSizes
 * @returns {AppendRun}
 */
function summariseAppend(batchMs, batchSizes) {
  const n = batchMs.length;
  const tenth = Math.max(1, Math.round(n / 10));
  /** @param {number} from @param {number} to */
  const rate = (from, to) => {
    let events = 0;
    let ms = 0;
    for (let i = from; i < to; i++) {
      events += /** @type {number} */ (batchSizes[i]);
      ms += /** @type {number} */ (batchMs[i]);
    }
    return (events / ms) * 1000;
  };
  const events = batchSizes.reduce((a, b) => a + b, 0);
  const ms = batchMs.reduce((a, b) => a + b, 0);
  return { events, ms, firstRate: rate(0, tenth), lastRate: rate(n - tenth, n) };
}

/**
 * @param {Evlog} evlog
 * @param {string} file
 * @param {NewEvent[][]} batches
 * @returns {Promise<AppendRun>}
 */
async function appendWithEvlog(evlog, file, batches) {
  const store = evlog.openStore(file, { create: true });
  /** @type {number[]} */
  const batchMs = [];
  const cpuBefore = process.cpuUsage();
  try {
    for (const batch of batches) {
      const start = performance.now();
      await store.appendEvents(batch);
      batchMs.push(performance.now() - start);
    }
  } finally {
    store.close();
  }
  const cpu = process.cpuUsage(cpuBefore);
  const run = summariseAppend(
    batchMs,
    batches.map((b) => b.length),
  );
  return { ...run, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/**
 * The naive approach: random text ids as primary key, an index per column, and a lookup of
 * the stream's last version for every event. Same durability as evlog (WAL, synchronous FULL),
 * and it serialises data and metadata as evlog does.
 * @param {string} file
 * @param {NewEvent[][]} batches
 * @param {number} limit  events
 * @param {number} seconds  time budget: stops after the batch that crosses it
 * @returns {AppendRun}
 */
function appendNaive(file, batches, limit, seconds) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`
    CREATE TABLE events (id TEXT PRIMARY KEY, topic TEXT, key TEXT, type TEXT, version INTEGER, time INTEGER, data TEXT, metadata TEXT);
    CREATE INDEX events_topic ON events (topic);
    CREATE INDEX events_key ON events (key);
    CREATE INDEX events_type ON events (type);
  `);
  const lastVersion = db.prepare('SELECT max(version) FROM events WHERE topic = ? AND key = ?').pluck();
  const insert = db.prepare(
    'INSERT INTO events (id, topic, key, type, version, time, data, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const appendBatch = db.transaction((/** @type {NewEvent[]} */ batch) => {
    for (const event of batch) {
      const key = event.key ?? '';
      const version = /** @type {number | null} */ (lastVersion.get(event.topic, key)) ?? 0;
      insert.run(
        crypto.randomUUID(),
        event.topic,
        key,
        event.type,
        version + 1,
        Date.now(),
        JSON.stringify(event.data),
        event.metadata ? JSON.stringify(event.metadata) : null,
      );
    }
  });
  /** @type {number[]} */
  const batchMs = [];
  /** @type {number[]} */
  const sizes = [];
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  for (const batch of batches) {
    if (done >= limit || performance.now() > deadline) break;
    const part = batch.length <= limit - done ? batch : batch.slice(0, limit - done);
    const start = performance.now();
    appendBatch.immediate(part);
    batchMs.push(performance.now() - start);
    sizes.push(part.length);
    done += part.length;
  }
  db.close();
  return summariseAppend(batchMs, sizes);
}

/**
 * @param {AppendRun} evlogRun
 * @param {AppendRun} naive
 * @param {Options} options
 * @returns {Row[]}
 */
function appendRows(evlogRun, naive, options) {
  const rate = (evlogRun.events / evlogRun.ms) * 1000;
  const naiveRate = (naive.events / naive.ms) * 1000;
  const ratio = rate / naiveRate;
  const fewer = naive.events < options.events ? ` (first ${fmtCount(naive.events)} ev)` : '';
  const naiveLabel = `naive schema${fewer}`;
  const keeps = evlogRun.lastRate / evlogRun.firstRate;
  return [
    {
      id: 'append.rate',
      label: `append, batches of ${fmtInt(BATCH_SIZE)} (${fmtCount(evlogRun.events)} ev)`,
      value: rate,
      unit: 'events/s',
      baseline: naiveRate,
      baselineLabel: naiveLabel,
      ratio,
      target: '>= 100,000 events/s',
      pass: rate >= 100_000,
      details: {
        events: evlogRun.events,
        ms: evlogRun.ms,
        cpuMs: evlogRun.cpuMs,
        cpuRate: evlogRun.cpuMs ? (evlogRun.events / evlogRun.cpuMs) * 1000 : undefined,
        baselineEvents: naive.events,
        baselineMs: naive.ms,
      },
    },
    {
      id: 'append.vsBaseline',
      label: 'append speed-up over the naive schema',
      value: ratio,
      unit: 'x',
      valueText: `${ratio.toFixed(1)}x`,
      baseline: naiveRate,
      baselineText: `${fmtInt(naiveRate)} ev/s`,
      baselineLabel: naiveLabel,
      target: '>= 3x baseline',
      pass: ratio >= 3,
    },
    {
      id: 'append.first10',
      label: 'append, first 10% of the run',
      value: evlogRun.firstRate,
      unit: 'events/s',
      baseline: naive.firstRate,
      baselineLabel: `naive, first 10%${fewer}`,
      ratio: evlogRun.firstRate / naive.firstRate,
      target: 'info',
      pass: null,
    },
    {
      id: 'append.last10',
      label: 'append, last 10% of the run',
      value: evlogRun.lastRate,
      unit: 'events/s',
      baseline: naive.lastRate,
      baselineLabel: `naive, last 10%${fewer}`,
      ratio: evlogRun.lastRate / naive.lastRate,
      target: `not falling: >= ${Math.round(NOT_FALLING_SHARE * 100)}% of first 10% (is ${Math.round(keeps * 100)}%)`,
      pass: keeps >= NOT_FALLING_SHARE,
      details: { lastOverFirst: keeps, baselineLastOverFirst: naive.lastRate / naive.firstRate },
    },
  ];
}

// ---------------------------------------------------------------------------------------
// 5. Bytes on disk

/**
 * @param {string} file
 * @param {string} naiveFile
 * @param {Options} options
 * @param {number} naiveEvents
 * @returns {Row}
 */
function diskRow(file, naiveFile, options, naiveEvents) {
  const measure = (/** @type {string} */ path) => {
    const db = new Database(path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const raw = /** @type {{ data: number, metadata: number }} */ (
      db
        .prepare(
          'SELECT avg(length(CAST(data AS BLOB))) AS data, avg(coalesce(length(CAST(metadata AS BLOB)), 0)) AS metadata FROM events',
        )
        .get()
    );
    db.close();
    let size = statSync(path).size;
    try {
      size += statSync(`${path}-wal`).size;
    } catch {
      // no WAL left after the checkpoint
    }
    return { size, raw };
  };
  const ours = measure(file);
  const naive = measure(naiveFile);
  const perEvent = ours.size / options.events;
  const naivePerEvent = naive.size / naiveEvents;
  const rawText = `raw data ${fmtInt(ours.raw.data)} B + metadata ${fmtInt(ours.raw.metadata)} B`;
  return {
    id: 'disk.bytesPerEvent',
    label: 'bytes on disk per event',
    value: perEvent,
    unit: 'bytes',
    valueText: `${fmtInt(perEvent)} B`,
    baseline: ours.raw.data + ours.raw.metadata,
    baselineLabel: rawText,
    baselineText: `${fmtInt(ours.raw.data + ours.raw.metadata)} B`,
    ratioText: `naive ${fmtInt(naivePerEvent)} B`,
    target: '<= 500 B',
    pass: perEvent <= 500,
    details: {
      fileBytes: ours.size,
      rawDataBytes: ours.raw.data,
      rawMetadataBytes: ours.raw.metadata,
      naiveBytesPerEvent: naivePerEvent,
    },
  };
}

// ---------------------------------------------------------------------------------------
// 2. Full read with JSON.parse

/**
 * @param {Evlog} evlog
 * @param {string} file
 * @param {number} expected
 * @returns {Promise<Row>}
 */
async function fullReadRow(evlog, file, expected) {
  // The baseline first, so that neither side gets a colder page cache than the other.
  const db = new Database(file, { readonly: true });
  const rawStart = performance.now();
  let rawCount = 0;
  for (const row of /** @type {IterableIterator<{ data: string, metadata: string | null }>} */ (
    db.prepare('SELECT * FROM events ORDER BY position').iterate()
  )) {
    JSON.parse(row.data);
    if (row.metadata !== null) JSON.parse(row.metadata);
    rawCount++;
  }
  const rawMs = performance.now() - rawStart;
  db.close();

  const store = evlog.openStore(file, { create: false });
  let count = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  try {
    for await (const page of evlog.readAllEvents(store, {})) {
      for (const record of page) {
        evlog.parseEventRecord(record);
        count++;
      }
    }
  } finally {
    store.close();
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  check(count === expected && rawCount === expected, `full read: ${count} and ${rawCount} events, not ${expected}`);
  const rate = (count / ms) * 1000;
  const rawRate = (rawCount / rawMs) * 1000;
  return {
    id: 'read.full',
    label: 'readAllEvents + JSON.parse, all events',
    value: rate,
    unit: 'events/s',
    baseline: rawRate,
    baselineLabel: 'raw SELECT * .iterate() + parse',
    ratio: rate / rawRate,
    target: '>= 250,000 events/s',
    pass: rate >= 250_000,
    details: { ms, baselineMs: rawMs, cpuMs, cpuRate: (count / cpuMs) * 1000 },
  };
}

// ---------------------------------------------------------------------------------------
// 3. tail --json and export to /dev/null

/**
 * Runs a command with stdout to /dev/null and returns its wall time in ms.
 * @param {string[]} args  arguments to node
 * @param {NodeJS.ProcessEnv} [env]
 */
function timeProcess(args, env = process.env) {
  const devNull = openSync('/dev/null', 'w');
  const start = performance.now();
  const result = spawnSync(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', devNull, 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(' ')} failed (${result.status ?? result.signal}): ${String(result.stderr)}`);
  }
  return ms;
}

/**
 * @param {string} file
 * @param {number} events
 * @returns {Row[]}
 */
function cliReadRows(file, events) {
  const rawMs = timeProcess([SELF, '--raw-dump', file]);
  const rawRate = (events / rawMs) * 1000;
  const baselineLabel = 'raw SQL data text, own process';
  const tailMs = timeProcess([BIN, 'tail', '--json', '--from', 'beginning', '--db', file]);
  const exportMs = timeProcess([BIN, 'export', '--db', file]);
  /** @param {string} id @param {string} label @param {number} ms @returns {Row} */
  const row = (id, label, ms) => {
    const rate = (events / ms) * 1000;
    return {
      id,
      label,
      value: rate,
      unit: 'events/s',
      baseline: rawRate,
      baselineLabel,
      ratio: rate / rawRate,
      target: '>= 400,000 events/s',
      pass: rate >= 400_000,
      details: { ms, baselineMs: rawMs },
    };
  };
  return [
    row('cli.tail', 'evlog tail --json --from beginning >/dev/null', tailMs),
    row('cli.export', 'evlog export >/dev/null', exportMs),
  ];
}

// ---------------------------------------------------------------------------------------
// 4. One stream among many

/**
 * @param {Evlog} evlog
 * @param {string} file
 * @param {number} expected
 * @param {number} total
 * @returns {Promise<Row>}
 */
async function streamReadRow(evlog, file, expected, total) {
  const filter = { stream: { topic: 'orders', key: STREAM_KEY } };
  const store = evlog.openStore(file, { create: false });
  /** @type {number[]} */
  let times;
  /** @type {number[]} */
  let parsedTimes;
  try {
    times = await timeRuns(async () => {
      let count = 0;
      for await (const page of evlog.readAllEvents(store, filter)) count += page.length;
      check(count === expected, `stream read: ${count} events, not ${expected}`);
    });
    parsedTimes = await timeRuns(async () => {
      for await (const page of evlog.readAllEvents(store, filter))
        for (const record of page) evlog.parseEventRecord(record);
    });
  } finally {
    store.close();
  }

  // Baseline: the same number of rows by primary key range, from the middle of the store.
  const db = new Database(file, { readonly: true });
  const range = db.prepare('SELECT * FROM events WHERE position > ? AND position <= ? ORDER BY position');
  const from = Math.max(0, Math.floor(total / 2) - expected);
  const rawTimes = await timeRuns(async () => {
    const rows = range.all(from, from + expected);
    check(rows.length === expected, `range read: ${rows.length} rows, not ${expected}`);
  });
  const rawParsedTimes = await timeRuns(async () => {
    for (const row of /** @type {IterableIterator<{ data: string, metadata: string | null }>} */ (
      range.iterate(from, from + expected)
    )) {
      JSON.parse(row.data);
      if (row.metadata !== null) JSON.parse(row.metadata);
    }
  });
  db.close();
  const ms = median(times);
  const rawMs = median(rawTimes);
  return {
    id: 'read.stream',
    label: `one ${fmtCount(expected)}-event stream of ${fmtCount(total)}, readAllEvents (median of 5)`,
    value: ms,
    unit: 'ms',
    baseline: rawMs,
    baselineLabel: `raw ${fmtCount(expected)} rows by position range`,
    ratio: ms / rawMs,
    ratioText: `${(ms / rawMs).toFixed(1)}x slower`,
    target: '<= 60 ms',
    pass: ms <= 60,
    details: {
      runsMs: times,
      baselineRunsMs: rawTimes,
      withJsonParseMs: median(parsedTimes),
      baselineWithJsonParseMs: median(rawParsedTimes),
    },
  };
}

/**
 * Times `work` 6 times and returns the last 5 (the first warms up).
 * @param {() => Promise<void>} work
 */
async function timeRuns(work) {
  /** @type {number[]} */
  const times = [];
  for (let run = 0; run < 6; run++) {
    const start = performance.now();
    await work();
    if (run > 0) times.push(performance.now() - start);
  }
  return times;
}

// ---------------------------------------------------------------------------------------
// 6. Process start

/**
 * @param {string} file
 * @returns {Row[]}
 */
function processRows(file) {
  let n = 0;
  const append = () =>
    timeProcess([BIN, 'append', 'bench-cli', `{"n":${n++}}`, '-t', 'CliAppended', '-k', 'cli', '--db', file]);
  const version = () => timeProcess([BIN, '--version']);
  const bare = () => timeProcess(['-e', '']);
  for (let i = 0; i < PROCESS_WARMUPS; i++) {
    append();
    version();
    bare();
  }
  /** @type {number[]} */
  const appendMs = [];
  /** @type {number[]} */
  const versionMs = [];
  /** @type {number[]} */
  const bareMs = [];
  // Interleaved, so that a slow moment of the machine hits all three alike.
  for (let i = 0; i < PROCESS_RUNS; i++) {
    bareMs.push(bare());
    appendMs.push(append());
    versionMs.push(version());
  }
  const nodeMs = median(bareMs);
  /** @param {string} id @param {string} label @param {number[]} runs @param {boolean} targeted @returns {Row} */
  const row = (id, label, runs, targeted) => {
    const ms = median(runs);
    const ratio = ms / nodeMs;
    return {
      id,
      label,
      value: ms,
      unit: 'ms',
      baseline: nodeMs,
      baselineLabel: "node -e ''",
      ratio,
      ratioText: `${ratio.toFixed(2)}x`,
      target: targeted ? "<= 2x node -e ''" : 'info',
      pass: targeted ? ratio <= 2 : null,
      details: { runsMs: runs, baselineRunsMs: bareMs },
    };
  };
  return [
    row('process.append', `evlog append, one event (median of ${PROCESS_RUNS})`, appendMs, true),
    row('process.version', `evlog --version (median of ${PROCESS_RUNS})`, versionMs, false),
  ];
}

// ---------------------------------------------------------------------------------------
// 7. tail -f latency and idle cost

/**
 * @param {Evlog} evlog
 * @param {string} file
 * @returns {Promise<Row[]>}
 */
async function tailFollowRows(evlog, file) {
  const watch = await followRun(evlog, file, 'watch');
  const poll = await followRun(evlog, file, 'poll');
  /** @type {Row[]} */
  const rows = [];
  for (const run of [watch, poll]) {
    const name = run.mode === 'watch' ? 'WAL file watch' : 'EVLOG_WATCH=poll';
    rows.push({
      id: `follow.${run.mode}.latency`,
      label: `tail -f latency, ${name} (median; ${run.received}/${LATENCY_EVENTS} seen)`,
      value: run.median,
      unit: 'ms',
      baseline: run.p95,
      baselineLabel: 'p95 (same run)',
      target: '<= 20 ms median, every event seen',
      pass: run.median <= 20 && run.received === LATENCY_EVENTS,
      details: { latenciesMs: run.latencies, p95: run.p95, max: run.max },
    });
  }
  for (const run of [watch, poll]) {
    const name = run.mode === 'watch' ? 'WAL file watch' : 'EVLOG_WATCH=poll';
    const share = run.idleCpuMs / (IDLE_SECONDS * 1000);
    rows.push({
      id: `follow.${run.mode}.idleCpu`,
      label: `tail -f CPU while idle ${IDLE_SECONDS} s, ${name}`,
      value: run.idleCpuMs,
      unit: 'cpu-ms',
      valueText: `${fmtInt(run.idleCpuMs)} ms (${(share * 100).toFixed(2)}%)`,
      ...(run.mode === 'poll'
        ? {
            baseline: watch.idleCpuMs,
            baselineLabel: 'the file-watch mode',
            baselineText: `${fmtInt(watch.idleCpuMs)} ms`,
          }
        : {}),
      target: `next to nothing (read as <= ${IDLE_CPU_SHARE * 100}% of a core)`,
      pass: share <= IDLE_CPU_SHARE,
      details: { ticksPerSecond: run.ticksPerSecond },
    });
  }
  return rows;
}

/**
 * @typedef {object} FollowRun
 * @property {'watch' | 'poll'} mode
 * @property {number[]} latencies
 * @property {number} received
 * @property {number} median
 * @property {number} p95
 * @property {number} max
 * @property {number} idleCpuMs
 * @property {number} ticksPerSecond
 */

/**
 * Appends single events from this process while `evlog tail -f` runs in a child, and
 * matches each printed line to its commit by id.
 * @param {Evlog} evlog
 * @param {string} file
 * @param {'watch' | 'poll'} mode
 * @returns {Promise<FollowRun>}
 */
async function followRun(evlog, file, mode) {
  const env = { ...process.env };
  if (mode === 'poll') env.EVLOG_WATCH = 'poll';
  else delete env.EVLOG_WATCH;
  const child = spawn(process.execPath, [BIN, 'tail', '-f', '--json', '-n', '0', '--db', file], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', () => {
    exited = true;
  });
  /** @type {Map<string, number>} */
  const arrivals = new Map();
  /** @type {(() => void) | undefined} */
  let onArrival;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const at = performance.now();
    try {
      arrivals.set(/** @type {{ id: string }} */ (JSON.parse(line)).id, at);
    } catch {
      // not an event line
    }
    onArrival?.();
  });
  /** @param {string} id @param {number} timeoutMs */
  const waitFor = async (id, timeoutMs) => {
    const deadline = performance.now() + timeoutMs;
    while (!arrivals.has(id) && !exited && performance.now() < deadline) {
      await Promise.race([
        new Promise((resolve) => {
          onArrival = () => resolve(undefined);
        }),
        sleep(Math.max(1, deadline - performance.now())),
      ]);
    }
    return arrivals.has(id);
  };

  const store = evlog.openStore(file, { create: false });
  try {
    // Ready when a warm-up event comes through.
    let ready = false;
    for (let attempt = 0; attempt < 30 && !ready && !exited; attempt++) {
      const [result] = await store.appendEvents([
        { topic: 'bench-latency', key: mode, type: 'WarmedUp', data: { attempt } },
      ]);
      ready = await waitFor(/** @type {{ id: string }} */ (result).id, 500);
    }
    check(ready, `tail -f (${mode}) printed nothing: ${stderr.trim() || 'no error output'}`);
    await sleep(200);

    /** @type {Map<string, number>} */
    const commits = new Map();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      await sleep(50 + Math.random() * 50);
      const [result] = await store.appendEvents([
        { topic: 'bench-latency', key: mode, type: 'LatencyProbed', data: { i, mode } },
      ]);
      commits.set(/** @type {{ id: string }} */ (result).id, performance.now());
    }
    const lastId = [...commits.keys()].at(-1);
    if (lastId !== undefined) await waitFor(lastId, 2000);
    await sleep(100);
    /** @type {number[]} */
    const latencies = [];
    for (const [id, committedAt] of commits) {
      const arrivedAt = arrivals.get(id);
      if (arrivedAt !== undefined) latencies.push(arrivedAt - committedAt);
    }

    // Idle: nothing is appended for IDLE_SECONDS.
    const ticksPerSecond = clockTicks();
    await sleep(1000);
    const before = cpuTicks(/** @type {number} */ (child.pid));
    await sleep(IDLE_SECONDS * 1000);
    const after = cpuTicks(/** @type {number} */ (child.pid));
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      mode,
      latencies,
      received: latencies.length,
      median: latencies.length ? median(latencies) : Number.NaN,
      p95: latencies.length ? percentile(sorted, 0.95) : Number.NaN,
      max: sorted.at(-1) ?? Number.NaN,
      idleCpuMs: ((after - before) / ticksPerSecond) * 1000,
      ticksPerSecond,
    };
  } finally {
    store.close();
    if (!exited) child.kill('SIGTERM');
    await exit;
  }
}

/**
 * utime + stime of a process, in clock ticks.
 * @param {number} pid
 */
function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Clock ticks per second for /proc/<pid>/stat (almost always 100). */
function clockTicks() {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(result.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}

// ---------------------------------------------------------------------------------------
// Report

/**
 * @param {Row} row
 * @param {number | undefined} value
 */
function formatValue(row, value) {
  if (value === undefined || Number.isNaN(value)) return '-';
  switch (row.unit) {
    case 'events/s':
      return `${fmtInt(value)} ev/s`;
    case 'ms':
      return `${value.toFixed(1)} ms`;
    case 'cpu-ms':
      return `${fmtInt(value)} ms`;
    case 'bytes':
      return `${fmtInt(value)} B`;
    case 'x':
      return `${value.toFixed(1)}x`;
  }
}

/**
 * @param {Row[]} rows
 * @param {Options} options
 * @param {number} totalSeconds
 * @param {number} loadAtStart  1-minute load average when the run started
 */
function printReport(rows, options, totalSeconds, loadAtStart) {
  const color = process.stdout.isTTY && !process.env.NO_COLOR;
  /** @param {string} code @param {string} text */
  const paint = (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const header = ['measure', 'evlog', 'baseline', 'vs baseline', 'target', 'result'];
  const table = rows.map((row) => [
    row.label,
    row.valueText ?? formatValue(row, row.value),
    row.baseline === undefined
      ? ''
      : `${row.baselineText ?? formatValue(row, row.baseline)}  ${row.baselineLabel ?? ''}`.trimEnd(),
    row.ratioText ?? (row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`),
    row.target,
    row.pass === null ? 'info' : row.pass ? 'PASS' : 'FAIL',
  ]);
  const laid = layoutTable(header, table, [1, 3]);
  const out = [];
  out.push('');
  out.push(
    `evlog benchmark: ${fmtInt(options.events)} events of ~200 B data, node ${process.version}, ` +
      `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}`,
  );
  const naiveEvents = /** @type {number} */ (rows.find((row) => row.id === 'append.rate')?.details?.baselineEvents);
  if (naiveEvents < options.events) {
    out.push(
      `The naive append baseline ran on the first ${fmtInt(naiveEvents)} events only (limits: ${fmtInt(options.baselineEvents)} events, ` +
        `${options.baselineSeconds} s); it slows as it grows, so this favours the baseline.`,
    );
  }
  if (loadAtStart > cpus().length / 2) {
    out.push(
      `Note: the machine was busy when the run started (load average ${loadAtStart.toFixed(1)} on ${cpus().length} cores): ` +
        'figures are lower and noisier than on an idle machine.',
    );
    /** @param {string} id */
    const cpuRate = (id) => /** @type {number | undefined} */ (rows.find((row) => row.id === id)?.details?.cpuRate);
    const appendCpu = cpuRate('append.rate');
    const readCpu = cpuRate('read.full');
    if (appendCpu !== undefined && readCpu !== undefined) {
      out.push(
        `On this process's CPU time instead of wall time: append ${fmtInt(appendCpu)} ev/s, ` +
          `full read + parse ${fmtInt(readCpu)} ev/s.`,
      );
    }
  }
  out.push('');
  out.push(laid.header, laid.rule);
  for (let i = 0; i < table.length; i++) {
    const row = /** @type {Row} */ (rows[i]);
    const text = /** @type {string} */ (laid.rows[i]);
    out.push(row.pass === false ? paint('1;31', text) : row.pass ? text.replace(/PASS$/, paint('32', 'PASS')) : text);
  }
  const failed = rows.filter((row) => row.pass === false);
  out.push('');
  if (failed.length === 0) {
    out.push(paint('1;32', `All ${rows.filter((r) => r.pass !== null).length} targets met.`));
  } else {
    out.push(paint('1;31', `${failed.length} TARGET${failed.length === 1 ? '' : 'S'} MISSED:`));
    for (const row of failed) {
      out.push(
        paint('31', `  FAIL  ${row.label}: ${row.valueText ?? formatValue(row, row.value)} (target ${row.target})`),
      );
    }
  }
  out.push(`Run took ${totalSeconds.toFixed(0)} s. Results: .bench/results.json`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * @param {Row[]} rows
 * @param {Options} options
 * @param {number} totalSeconds
 * @param {number} loadAtStart
 */
function writeResults(rows, options, totalSeconds, loadAtStart) {
  const dir = join(ROOT, '.bench');
  mkdirSync(dir, { recursive: true });
  const document = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim(),
    events: options.events,
    baselineEvents: options.baselineEvents,
    baselineSeconds: options.baselineSeconds,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: loadavg()[0],
    batchSize: BATCH_SIZE,
    seconds: totalSeconds,
    passed: rows.every((row) => row.pass !== false),
    results: rows,
  };
  const fd = openSync(join(dir, 'results.json'), 'w');
  writeSync(fd, `${JSON.stringify(document, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------
// Helpers

/** @param {number} value */
function fmtInt(value) {
  return Math.round(value).toLocaleString('en-US');
}

/** 1,000,000 → 1M, 200,000 → 200k, 10,000 → 10k. */
function fmtCount(/** @type {number} */ value) {
  if (value >= 1e6 && value % 1e5 === 0) return `${value / 1e6}M`;
  if (value >= 1e3 && value % 100 === 0) return `${value / 1e3}k`;
  return fmtInt(value);
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] ?? Number.NaN;
  const lower = sorted[mid - 1] ?? Number.NaN;
  return sorted.length % 2 ? upper : (lower + upper) / 2;
}

/**
 * @param {number[]} sorted
 * @param {number} p  0..1
 */
function percentile(sorted, p) {
  return /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]);
}

/** @param {string} message */
function progress(message) {
  process.stderr.write(`bench: ${message}\n`);
}

/**
 * @param {boolean} condition
 * @param {string} message
 * @returns {asserts condition}
 */
function check(condition, message) {
  if (!condition) throw new Error(message);
}
