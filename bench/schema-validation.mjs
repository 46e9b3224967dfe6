// @ts-check
/**
 * What schema validation costs on append, measured in one run beside its baseline:
 *
 *   - batched append (one `evlog append --batch` process, N shop events) into a store with
 *     no schemas, and into one where every shop type has a schema, so every event is validated;
 *   - one-event `evlog append` of a type without a schema, as a process, beside `node -e ''`.
 *
 *   npm run build && node bench/schema-validation.mjs [--events 200000] [--runs 3]
 *
 * Targets (issue 3): validation costs at most 15% of batched-append throughput; a one-event
 * append of a type without schema stays within 2x `node -e ''`. It is a report, not a test.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEvents } from '../fixtures/generate-events.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'evlog.js');
const SCHEMAS = join(ROOT, 'fixtures', 'shop', 'schemas');

const args = process.argv.slice(2);
const option = (/** @type {string} */ name, /** @type {number} */ fallback) => {
  const index = args.indexOf(name);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const EVENTS = option('--events', 200_000);
const RUNS = option('--runs', 3);
const PROCESS_RUNS = option('--process-runs', 20);

const dir = mkdtempSync(join(tmpdir(), 'evlog-bench-schema-'));
try {
  const input = join(dir, 'events.ndjson');
  let text = '';
  for (const event of generateEvents(EVENTS, { seed: 7, dataBytes: 200 })) text += `${JSON.stringify(event)}\n`;
  writeFileSync(input, text);

  // The shop's v1 schemas, each also allowing the generator's free-text `note` padding.
  /** @type {{ type: string, path: string }[]} */
  const schemaFiles = [];
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.v1.json'))) {
    const document = JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8'));
    document.properties.note = { type: 'string' };
    if (document.properties.method) delete document.properties.method.enum;
    const path = join(dir, file);
    writeFileSync(path, JSON.stringify(document));
    schemaFiles.push({ type: file.replace('.v1.json', ''), path });
  }

  /** @param {string[]} argv */
  const evlog = (argv) => {
    const result = spawnSync(process.execPath, [BIN, ...argv], {
      encoding: 'utf8',
      env: { ...process.env, EVLOG_DB: '' },
    });
    if (result.status !== 0) throw new Error(`evlog ${argv.join(' ')} exited ${result.status}: ${result.stderr}`);
    return result;
  };
  /** @param {string} db @param {boolean} withSchemas */
  const batchAppend = (db, withSchemas) => {
    if (withSchemas)
      for (const { type, path } of schemaFiles) evlog(['schema', 'register', type, path, '-q', '--db', db]);
    const start = process.hrtime.bigint();
    evlog(['append', '--batch', input, '-q', '--db', db]);
    return Number(process.hrtime.bigint() - start) / 1e9;
  };

  const plain = [];
  const validated = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternate, so drift in the machine's speed falls on both sides alike.
    plain.push(batchAppend(join(dir, `plain-${run}.db`), false));
    validated.push(batchAppend(join(dir, `validated-${run}.db`), true));
  }
  const median = (/** @type {number[]} */ values) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const plainRate = EVENTS / median(plain);
  const validatedRate = EVENTS / median(validated);
  const cost = 1 - validatedRate / plainRate;

  /** @param {string[]} argv */
  const processTime = (argv) => {
    const times = [];
    for (let i = 0; i < PROCESS_RUNS + 3; i++) {
      const start = process.hrtime.bigint();
      const result = spawnSync(process.execPath, argv, { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${argv.join(' ')}: ${result.stderr}`);
      if (i >= 3) times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(times);
  };
  const oneDb = join(dir, `plain-0.db`);
  const nodeMs = processTime(['-e', '']);
  const appendMs = processTime([BIN, 'append', 'misc', '{"n":1}', '-t', 'NoSchema', '-q', '--db', oneDb]);
  const schemaDb = join(dir, `validated-0.db`);
  const appendValidatedMs = processTime([
    BIN,
    'append',
    'inventory',
    '{"orderId":"order-1","sku":"sku-x","qty":1}',
    '-t',
    'InventoryReserved',
    '-q',
    '--db',
    schemaDb,
  ]);

  const rows = [
    ['batched append, no schemas', `${Math.round(plainRate).toLocaleString('en')} events/s`, 'baseline'],
    [
      'batched append, every event validated',
      `${Math.round(validatedRate).toLocaleString('en')} events/s`,
      `costs ${(cost * 100).toFixed(1)}% of the throughput (target <= 15%): ${cost <= 0.15 ? 'met' : 'MISSED'}`,
    ],
    ["node -e ''", `${nodeMs.toFixed(0)} ms`, 'baseline'],
    [
      'evlog append, type without schema',
      `${appendMs.toFixed(0)} ms`,
      `${(appendMs / nodeMs).toFixed(2)}x node (target <= 2x): ${appendMs <= 2 * nodeMs ? 'met' : 'MISSED'}`,
    ],
    [
      'evlog append, type with a schema',
      `${appendValidatedMs.toFixed(0)} ms`,
      `${(appendValidatedMs / nodeMs).toFixed(2)}x node (loads Ajv)`,
    ],
  ];
  process.stdout.write(
    `schema validation, ${EVENTS.toLocaleString('en')} events of ~200 bytes, median of ${RUNS} runs\n`,
  );
  const width = Math.max(...rows.map((r) => r[0]?.length ?? 0));
  const width2 = Math.max(...rows.map((r) => r[1]?.length ?? 0));
  for (const [name, value, note] of rows) {
    process.stdout.write(`  ${String(name).padEnd(width)}  ${String(value).padStart(width2)}  ${note}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
