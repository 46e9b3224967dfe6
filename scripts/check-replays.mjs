// Replays the shop fixture's projections to chosen positions and times and compares each
// with its expected state (fixtures/shop/expected/), as a CI step would: exit 1 with a diff
// when a change to a projection changes one of history's answers.
//
//   npm run build && npm run check:replays          check
//   node scripts/check-replays.mjs --update         write the expected files again
//
// The store is built from fixtures/shop/events.ndjson with fixed recorded times (one event a
// minute from 2026-11-01T09:00:00Z), so replays by time are reproducible.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const shop = join(root, 'fixtures', 'shop');
const evlog = join(root, 'bin', 'evlog.js');
const update = process.argv.includes('--update');
/** @type {{ projection: string, until: string, file: string }[]} */
const replays = JSON.parse(readFileSync(join(shop, 'expected', 'replays.json'), 'utf8'));

const SHOP_START_TIME = Date.UTC(2026, 10, 1, 9, 0, 0);

const folder = mkdtempSync(join(tmpdir(), 'evlog-replays-'));
let failed = 0;
try {
  const db = join(folder, 'shop.db');
  const timed = readFileSync(join(shop, 'events.ndjson'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) =>
      JSON.stringify({ ...JSON.parse(line), time: new Date(SHOP_START_TIME + i * 60_000).toISOString() }),
    )
    .join('\n');
  writeFileSync(join(folder, 'events.ndjson'), `${timed}\n`);
  execFileSync(process.execPath, [evlog, 'import', join(folder, 'events.ndjson'), '--db', db, '-q']);
  for (const schema of ['OrderPlaced.v1', 'OrderPlaced.v2']) {
    execFileSync(process.execPath, [
      evlog,
      'schema',
      'register',
      'OrderPlaced',
      join(shop, 'schemas', `${schema}.json`),
      '--db',
      db,
      '-q',
    ]);
  }
  for (const { projection, until, file } of replays) {
    const expected = join(shop, 'expected', file);
    const args = [
      evlog,
      'replay',
      '--projection',
      projection,
      '--until',
      until,
      '--db',
      db,
      '--config',
      join(shop, 'evlog.config.mjs'),
    ];
    if (update) {
      const state = execFileSync(process.execPath, args, { encoding: 'utf8' });
      writeFileSync(expected, state);
      console.log(`wrote ${file}`);
      continue;
    }
    const result = spawnSync(process.execPath, [...args, '--expect', expected], { encoding: 'utf8' });
    if (result.status === 0) console.log(`ok   ${projection} --until ${until}`);
    else {
      failed++;
      console.log(`FAIL ${projection} --until ${until}\n${result.stderr}`);
    }
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
if (failed > 0) {
  console.log(`${failed} of ${replays.length} replays differ from their expected states`);
  process.exit(1);
}
if (!update) console.log(`all ${replays.length} replays match their expected states`);
