// @ts-check
/**
 * Dead-letter benchmark: the first page of `dlq list` over 100,000 parked entries, against
 * the BUILT code (dist/ and bin/evlog.js), each figure beside a baseline from the same run.
 *
 *   npm run build && node bench/dlq.mjs              # 100,000 entries
 *   node bench/dlq.mjs --entries 1000000             # more
 *
 * Target (issue 5): the first page in ≤ 50 ms. Measured in process (store.listDeadLetters,
 * beside a raw better-sqlite3 SELECT of the same page) and as a whole `evlog dlq list
 * --limit 50` process (beside `evlog stats` on the same store: evlog's start-up with the
 * store opened, and `node -e ''`). It is a
 * report: exit 0 even when a target is missed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { layoutTable } from './table.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'evlog.js');
const argv = process.argv.slice(2);
const entriesArg = argv.indexOf('--entries');
const ENTRIES = entriesArg >= 0 ? Number(argv[entriesArg + 1]) : 100_000;
if (!Number.isSafeInteger(ENTRIES) || ENTRIES < 100) {
  console.error('bench: --entries must be a whole number of at least 100');
  process.exit(2);
}
const PAGE = 50;
const IN_PROCESS_RUNS = 200;
const PROCESS_RUNS = 15;
const TARGET_MS = 50;

const { openStore } = await import(join(ROOT, 'dist', 'index.js'));
const folder = mkdtempSync(join(tmpdir(), 'evlog-bench-dlq-'));
const db = join(folder, 'bench.db');

try {
  const store = openStore(db);
  const parkStarted = performance.now();
  const groups = ['mailer', 'billing', 'search-indexer', 'webhooks'];
  await store.parkDeadLetters(
    Array.from({ length: ENTRIES }, (_, i) => ({
      source: 'consumer',
      group: groups[i % groups.length],
      position: i + 1,
      topic: 'orders',
      type: i % 3 ? 'OrderPlaced' : 'PaymentFailed',
      line: null,
      reason: i % 5 ? 'handler-failed' : 'timeout',
      error: `Error: connect ECONNREFUSED 10.0.0.${i % 255}:25\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)`,
      attempts: 5,
    })),
  );
  const parkSeconds = (performance.now() - parkStarted) / 1000;

  // In process: the first page (the command asks for one more, to know whether more follow).
  const firstInProcess = time(() => store.listDeadLetters({ status: 'parked' }, { limit: PAGE + 1 }));
  const inProcess = median(
    await timeRuns(IN_PROCESS_RUNS, () => store.listDeadLetters({ status: 'parked' }, { limit: PAGE + 1 })),
  );
  const filtered = median(
    await timeRuns(IN_PROCESS_RUNS, () =>
      store.listDeadLetters({ status: 'parked', group: 'webhooks' }, { limit: PAGE + 1, afterId: ENTRIES / 2 }),
    ),
  );
  const count = median(await timeRuns(20, () => store.countDeadLetters({ status: 'parked' })));
  store.close();

  const raw = new Database(db, { readonly: true });
  const select = raw.prepare(
    `SELECT id, source, grp, position, topic, type, line, reason, error, attempts, status, first_failed_at, last_failed_at
     FROM dead_letters WHERE status = 'parked' ORDER BY id LIMIT ?`,
  );
  const rawPage = median(await timeRuns(IN_PROCESS_RUNS, async () => select.all(PAGE + 1)));
  raw.close();

  // Whole processes: the table, and --json, beside starting node at all.
  const nodeStart = median(processRuns(['-e', '']));
  // evlog's own start-up with the same store opened: what any command costs before its work.
  const evlogStart = median(processRuns([BIN, 'stats', '--db', db]));
  const cliTable = median(processRuns([BIN, 'dlq', 'list', '--limit', String(PAGE), '--db', db]));
  const cliJson = median(processRuns([BIN, 'dlq', 'list', '--limit', String(PAGE), '--json', '--db', db]));

  const rows = [
    [
      `first page of ${PAGE}, in process (store.listDeadLetters)`,
      ms(inProcess),
      `${ms(rawPage)}  raw better-sqlite3 SELECT of the page`,
      `≤ ${TARGET_MS} ms`,
      inProcess <= TARGET_MS ? 'PASS' : 'FAIL',
    ],
    [`  the very first call (statement not prepared yet)`, ms(firstInProcess), '', '', 'info'],
    [`  one group, from the middle (--group --after)`, ms(filtered), '', '', 'info'],
    [`  count of all parked (only for the next-page hint)`, ms(count), '', '', 'info'],
    [
      `evlog dlq list --limit ${PAGE}, whole process`,
      ms(cliTable),
      `${ms(evlogStart)}  evlog stats on the same store (start-up)`,
      `≤ ${TARGET_MS} ms over start-up`,
      cliTable - evlogStart <= TARGET_MS ? 'PASS' : 'FAIL',
    ],
    [
      `evlog dlq list --limit ${PAGE} --json, whole process`,
      ms(cliJson),
      `${ms(evlogStart)}  evlog stats on the same store`,
      '',
      'info',
    ],
    [`node -e ''`, ms(nodeStart), '', '', 'info'],
  ];
  const header = ['measure', 'evlog', 'baseline (same run)', 'target', 'result'];
  const laid = layoutTable(header, rows, [1]);
  const out = [
    '',
    `dlq benchmark: ${ENTRIES.toLocaleString('en-US')} parked entries (parked in one call in ${parkSeconds.toFixed(2)} s), ` +
      `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; medians of ${IN_PROCESS_RUNS} calls / ${PROCESS_RUNS} processes`,
    '',
    laid.header,
    laid.rule,
    ...laid.rows,
    '',
  ];
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}

/** @param {() => unknown} work */
function time(work) {
  const started = performance.now();
  work();
  return performance.now() - started;
}

/** @param {number} runs @param {() => Promise<unknown> | unknown} work */
async function timeRuns(runs, work) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return times;
}

/** Wall times of `node <args>` with stdout to /dev/null, after two warm-up runs. @param {string[]} args */
function processRuns(args) {
  const times = [];
  for (let i = 0; i < PROCESS_RUNS + 2; i++) {
    const devNull = openSync('/dev/null', 'w');
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', devNull, 'pipe'] });
    const elapsed = performance.now() - started;
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${String(result.stderr)}`);
    if (i >= 2) times.push(elapsed);
  }
  return times;
}

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** @param {number} value */
function ms(value) {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(0)} ms`;
}
