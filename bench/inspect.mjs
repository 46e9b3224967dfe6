// @ts-check
/**
 * Inspector benchmark (issue 6), against the BUILT code (dist/ and bin/evlog.js), on a real
 * pseudo-terminal (util-linux `script`), each figure beside a baseline from the same run:
 *
 * - from the process start to the first full frame (the status bar with the head, and the
 *   list's rows) on a store of 1M events and 100k parked dead letters; baseline: a bare
 *   `node -e ''` start on the same terminal. Target ≤ 500 ms.
 * - a key press to the next frame (↓ within the page, PgDn reading the next page from the
 *   store, a view switch); baseline: the same terminal echoing a key with `cat`. Target ≤ 50 ms.
 * - memory after paging through all 100k dead letters, beside the memory at the first frame.
 *
 *   npm run build && node bench/inspect.mjs                           # 1M events, 100k dead letters
 *   node bench/inspect.mjs --events 100000 --dead-letters 10000       # a quick run
 *
 * It is a report: exit 0 even when a target is missed (1 when it cannot run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEvents } from '../fixtures/generate-events.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'evlog.js');
const COLUMNS = 100;
const ROWS = 30;
const START_RUNS = 7;
const KEY_RUNS = 40;

const argv = process.argv.slice(2);
/** @param {string} name @param {number} fallback */
function numberOption(name, fallback) {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(String(argv[at + 1]).replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`bench: ${name} takes a whole number`);
    process.exit(2);
  }
  return value;
}
const EVENTS = numberOption('--events', 1_000_000);
const DEAD_LETTERS = numberOption('--dead-letters', 100_000);

if (spawnSync('script', ['--version']).status !== 0) {
  console.error('bench: needs `script` (util-linux) for a pseudo-terminal');
  process.exit(1);
}

const folder = mkdtempSync(join(tmpdir(), 'evlog-bench-inspect-'));
process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
const db = join(folder, 'bench.db');

/** @param {string} text */
function progress(text) {
  process.stderr.write(`${text}\n`);
}

/** Strips terminal escape codes: what the screen shows, as text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escape codes are what it removes
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-B]|\u001b[=>78]/g;
/** @param {string} text */
const plain = (text) => text.replace(ESCAPES, '');

/** @param {number[]} values */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
/** @param {number[]} values */
function p95(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? Number.NaN;
}
/** @param {number} ms */
const fmtMs = (ms) => `${ms.toFixed(1)} ms`;
/** @param {number} n */
const fmtInt = (n) => n.toLocaleString('en-US');

/**
 * A command on a pseudo-terminal of COLUMNS x ROWS: what it writes, as it comes, and a way
 * to type into it.
 * @param {string} command a shell command line
 */
function onTerminal(command) {
  const started = performance.now();
  const child = spawn(
    'script',
    ['-qfec', `stty cols ${COLUMNS} rows ${ROWS}; exec env -u CI ${command}`, '/dev/null'],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let output = '';
  /** @type {{ test: (text: string) => boolean; resolve: (at: number) => void }[]} */
  let waiters = [];
  /** @type {(() => void)[]} */
  let nextWrite = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const at = performance.now();
    output += chunk;
    for (const resolve of nextWrite) resolve();
    nextWrite = [];
    const text = plain(output);
    waiters = waiters.filter((waiter) => {
      if (!waiter.test(text)) return true;
      waiter.resolve(at);
      return false;
    });
  });
  const exited = new Promise((resolve) => child.on('close', resolve));
  return {
    started,
    child,
    exited,
    /** Resolves with the time (ms since the start) at which the screen text first satisfies `test`. */
    waitFor(/** @type {(text: string) => boolean} */ test, timeoutMs = 30_000) {
      if (test(plain(output))) return Promise.resolve(performance.now() - started);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such screen after ${timeoutMs} ms:\n${plain(output).slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          test,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at - started);
          },
        });
      });
    },
    /** Types `keys` and resolves with the ms until the program next writes to the terminal. */
    async press(/** @type {string} */ keys) {
      /** @type {NodeJS.Timeout | undefined} */
      let timer;
      const written = new Promise((resolve, reject) => {
        nextWrite.push(() => resolve(undefined));
        timer = setTimeout(() => reject(new Error(`nothing was drawn after ${JSON.stringify(keys)}`)), 5000);
      });
      const at = performance.now();
      child.stdin.write(keys);
      await written;
      clearTimeout(timer);
      return performance.now() - at;
    },
    /** Clears what was seen so far (the next wait looks at new output only). */
    forget() {
      output = '';
    },
  };
}

/** The resident memory (MB) of the evlog process started for `db`. */
function evlogMemoryMb() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      // The node process itself (not script or the shell, whose command lines name it too).
      if (args[0] !== process.execPath || args[1] !== BIN || !args.includes(db)) continue;
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
      return kb / 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return Number.NaN;
}

// ---------------------------------------------------------------------------------------

const { openStore } = await import(join(ROOT, 'dist', 'index.js'));
progress(`building a store of ${fmtInt(EVENTS)} events and ${fmtInt(DEAD_LETTERS)} dead letters (not timed)…`);
{
  const store = openStore(db);
  let batch = [];
  for (const event of generateEvents(EVENTS, { seed: 11, dataBytes: 200 })) {
    batch.push(event);
    if (batch.length === 1000) {
      await store.appendEvents(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await store.appendEvents(batch);
  if (DEAD_LETTERS > 0) {
    if (typeof store.parkDeadLetters !== 'function') {
      console.error('bench: this build has no dead letters (issue 5); run with --dead-letters 0');
      process.exit(1);
    }
    const groups = ['mailer', 'ledger', 'warehouse-sync', 'analytics'];
    let entries = [];
    for (let i = 0; i < DEAD_LETTERS; i++) {
      const position = 1 + ((i * 7919) % EVENTS);
      entries.push({
        source: 'consumer',
        group: groups[i % groups.length],
        position,
        topic: 'orders',
        type: i % 3 ? 'OrderPlaced' : 'PaymentProcessed',
        line: null,
        reason: i % 5 ? 'handler-failed' : 'timeout',
        error: `handler exited with code 1: smtp 550 mailbox unavailable for order ${i}\n    at send (mailer.js:12:9)`,
        attempts: 3,
      });
      if (entries.length === 5000) {
        await store.parkDeadLetters(entries);
        entries = [];
      }
    }
    if (entries.length > 0) await store.parkDeadLetters(entries);
  }
  store.close();
}

const headText = `head ${fmtInt(EVENTS)}`;
/** The first full frame: the status bar with the head, and the list's first rows. */
const fullFrame =
  DEAD_LETTERS > 0
    ? (/** @type {string} */ text) => text.includes(headText) && /›\s+1\s+mailer/.test(text)
    : (/** @type {string} */ text) => text.includes(headText) && new RegExp(`›\\s+${EVENTS}\\s`).test(text);

progress(`1/3 process start to the first full frame, ${START_RUNS} runs each, beside node -e '' on the same terminal…`);
const nodeStarts = [];
for (let i = 0; i < START_RUNS; i++) {
  const run = onTerminal(`${process.execPath} -e "process.stdout.write('ready')"`);
  nodeStarts.push(await run.waitFor((text) => text.includes('ready')));
  await run.exited;
}
const firstFrames = [];
for (let i = 0; i < START_RUNS; i++) {
  const run = onTerminal(`${process.execPath} ${BIN} inspect --db ${db}`);
  firstFrames.push(await run.waitFor(fullFrame));
  run.child.stdin.write('q');
  await run.exited;
}

progress(`2/3 a key press to the next frame (${KEY_RUNS} presses of each), beside cat echoing a key…`);
const echoes = [];
{
  const run = onTerminal('cat');
  await new Promise((resolve) => setTimeout(resolve, 300));
  for (let i = 0; i < KEY_RUNS; i++) {
    echoes.push(await run.press('x'));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  run.child.kill();
}
const run = onTerminal(`${process.execPath} ${BIN} inspect --db ${db}`);
await run.waitFor(fullFrame);
const memoryAtStart = evlogMemoryMb();
/**
 * Each press changes the frame (a key that changes nothing draws nothing): the two keys take turns.
 * @param {string} there @param {string} back
 */
async function timeKeys(there, back) {
  const times = [];
  for (let i = 0; i < KEY_RUNS; i++) {
    times.push(await run.press(i % 2 ? back : there));
    // Let the frame finish (Ink may write it in more than one chunk) before the next key.
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return times;
}
// The dead letters open at the first entry, the events at the last.
const down = DEAD_LETTERS > 0 ? await timeKeys('j', 'k') : await timeKeys('k', 'j');
const pageDown = DEAD_LETTERS > 0 ? await timeKeys('\u001b[6~', '\u001b[5~') : await timeKeys('\u001b[5~', '\u001b[6~');
const switches = [];
for (let i = 0; i < KEY_RUNS / 2; i++) {
  switches.push(await run.press('3'));
  await new Promise((resolve) => setTimeout(resolve, 60));
  switches.push(await run.press(DEAD_LETTERS > 0 ? '1' : '2'));
  await new Promise((resolve) => setTimeout(resolve, 60));
}

let scrolled = 0;
let memoryAfter = Number.NaN;
/** @type {number[]} */
const memorySamples = [];
if (DEAD_LETTERS > 0) {
  progress(`3/3 paging through all ${fmtInt(DEAD_LETTERS)} dead letters…`);
  run.forget();
  const started = performance.now();
  // PgDn in bursts; the inspector handles them in order. Memory is read about every quarter.
  const page = ROWS - 5;
  const bursts = Math.ceil(DEAD_LETTERS / page / 50);
  let burst = 0;
  while (true) {
    run.child.stdin.write('\u001b[6~'.repeat(50));
    burst++;
    if (burst % Math.ceil(bursts / 4) === 0) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      memorySamples.push(evlogMemoryMb());
    }
    const done = await Promise.race([
      run.waitFor((text) => new RegExp(`›\\s+${DEAD_LETTERS}\\s`).test(text), 2000).then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 150)),
    ]).catch(() => false);
    if (done) break;
    if (performance.now() - started > 600_000) throw new Error('paging through the dead letters took over 10 minutes');
  }
  scrolled = (performance.now() - started) / 1000;
  memoryAfter = evlogMemoryMb();
}
run.child.stdin.write('q');
await run.exited;

const startMedian = median(firstFrames);
const rows = [
  [
    `first full frame, ${fmtInt(EVENTS)} events + ${fmtInt(DEAD_LETTERS)} dead letters`,
    `${fmtMs(startMedian)} (median of ${START_RUNS}; worst ${fmtMs(Math.max(...firstFrames))})`,
    `node -e '': ${fmtMs(median(nodeStarts))}`,
    `target ≤ 500 ms: ${startMedian <= 500 ? 'met' : 'missed'}`,
  ],
  [
    '↓/↑ (j/k) to the next frame',
    `${fmtMs(median(down))} median, p95 ${fmtMs(p95(down))}`,
    `cat echoing a key: ${fmtMs(median(echoes))}`,
    `target ≤ 50 ms: ${p95(down) <= 50 ? 'met' : 'missed'}`,
  ],
  [
    'PgDn/PgUp (reads pages from the store) to the next frame',
    `${fmtMs(median(pageDown))} median, p95 ${fmtMs(p95(pageDown))}`,
    '',
    `target ≤ 50 ms: ${p95(pageDown) <= 50 ? 'met' : 'missed'}`,
  ],
  [
    'view switch (to Projections and back) to the next frame',
    `${fmtMs(median(switches))} median, p95 ${fmtMs(p95(switches))}`,
    '',
    `target ≤ 50 ms: ${p95(switches) <= 50 ? 'met' : 'missed'}`,
  ],
];
if (DEAD_LETTERS > 0) {
  rows.push([
    `memory after paging through all ${fmtInt(DEAD_LETTERS)} dead letters (${scrolled.toFixed(1)} s)`,
    `${memoryAfter.toFixed(0)} MB resident`,
    `at the first frame: ${memoryAtStart.toFixed(0)} MB; along the way: ${memorySamples.map((mb) => mb.toFixed(0)).join(', ')} MB`,
    'bounded: the list holds at most 600 rows',
  ]);
}
const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
console.log(
  `inspector, ${COLUMNS}x${ROWS} pseudo-terminal (script), ${fmtInt(EVENTS)} events, ${fmtInt(DEAD_LETTERS)} dead letters`,
);
console.log(
  `${'measure'.padEnd(widths[0] ?? 0)}  ${'evlog inspect'.padEnd(widths[1] ?? 0)}  ${'baseline (same run)'.padEnd(widths[2] ?? 0)}`,
);
for (const row of rows) {
  console.log(row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] ?? 0) : cell)).join('  '));
}
