import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import {
  appendOrders,
  checkpointOf,
  deadLettersOf,
  handler,
  isRunning,
  readDeliveries,
  waitUntil,
} from './support/consumers.js';
import {
  appendEvents,
  it,
  runEvlogOk as ok,
  parseLines,
  readEvents,
  runEvlog,
  type StoredEventJson,
} from './support/run-evlog.js';

// `evlog consume` run one process at a time: what it delivers, to what, and what it says.
// The races between processes are in consume-processes.e2e.spec.ts.

/** orders and payments interleaved: orders at odd positions 1, 3, …, payments at even ones. */
async function seedTwoTopics(db: string, pairs: number): Promise<void> {
  const events = [];
  for (let i = 1; i <= pairs; i++) {
    events.push({ topic: 'orders', key: `order-${i}`, type: 'OrderPlaced', data: { n: i } });
    events.push({ topic: 'payments', key: `order-${i}`, type: 'PaymentProcessed', data: { n: i } });
  }
  await appendEvents(db, events);
}

const SUMMARY_KEYS = ['group', 'topic', 'events', 'succeeded', 'deadLettered', 'retries', 'checkpoint', 'stopped'];

describe.concurrent('evlog consume delivers', () => {
  it("delivers the group's topic only, in position order, prints a summary, and nothing new the second time", async ({
    tmp,
    db,
  }) => {
    await seedTwoTopics(db, 5);
    const log = join(tmp, 'deliveries.log');
    const env = { HANDLER_LOG: log };
    const first = await ok(
      ['consume', 'mailer', '--topic', 'orders', '--handler', handler('delivery-log.mjs'), '--db', db],
      {
        env,
      },
    );
    expect(first.stdout).toBe('mailer: 5 events from orders (5 succeeded), checkpoint 9\n');
    expect(readDeliveries(log).map((d) => [d.position, d.attempt])).toEqual([
      [1, 1],
      [3, 1],
      [5, 1],
      [7, 1],
      [9, 1],
    ]);
    expect(await checkpointOf(db, 'mailer')).toBe(9);

    // The group remembers its topic and handler: the name is enough, and nothing is new.
    const again = await ok(['consume', 'mailer', '--db', db, '--json'], { env });
    const summary = JSON.parse(again.stdout);
    expect(Object.keys(summary)).toEqual(SUMMARY_KEYS);
    expect(summary).toEqual({
      group: 'mailer',
      topic: 'orders',
      events: 0,
      succeeded: 0,
      deadLettered: 0,
      retries: 0,
      checkpoint: 9,
      stopped: 'caught-up',
    });
    expect(readDeliveries(log)).toHaveLength(5);

    // New events on both topics: only the group's, and only the new ones.
    await seedTwoTopics(db, 2);
    const third = await ok(['consume', 'mailer', '--db', db, '--json'], { env });
    expect(JSON.parse(third.stdout)).toMatchObject({ events: 2, succeeded: 2, checkpoint: 13, stopped: 'caught-up' });
    expect(readDeliveries(log).map((d) => d.position)).toEqual([1, 3, 5, 7, 9, 11, 13]);
  });

  it('runs a group declared in the config: a module path relative to the config, and a command run there', async ({
    tmp,
    db,
  }) => {
    await seedTwoTopics(db, 3);
    const folder = join(tmp, 'project');
    mkdirSync(join(folder, 'handlers'), { recursive: true });
    writeFileSync(
      join(folder, 'handlers', 'log.mjs'),
      `export { default } from ${JSON.stringify(handler('delivery-log.mjs'))};\n`,
    );
    const config = join(folder, 'evlog.config.mjs');
    writeFileSync(
      config,
      `export default { consumers: [
  { name: 'by-module', topic: 'orders', handler: './handlers/log.mjs', maxAttempts: 2 },
  { name: 'by-command', topic: 'payments', exec: 'cat >> payments.ndjson' },
] };\n`,
    );
    const log = join(tmp, 'deliveries.log');
    // Run from another folder than the config's: the module path is the config's, not the cwd's.
    const byModule = await ok(['consume', 'by-module', '--config', config, '--db', db, '--json'], {
      cwd: tmp,
      env: { HANDLER_LOG: log },
    });
    expect(JSON.parse(byModule.stdout)).toMatchObject({ topic: 'orders', events: 3, succeeded: 3, checkpoint: 5 });
    expect(readDeliveries(log).map((d) => d.position)).toEqual([1, 3, 5]);

    const byCommand = await ok(['consume', 'by-command', '--config', config, '--db', db, '--json'], { cwd: tmp });
    expect(JSON.parse(byCommand.stdout)).toMatchObject({ topic: 'payments', events: 3, checkpoint: 6 });
    // The command runs in the config's folder too, wherever evlog was started.
    const seen = parseLines<StoredEventJson>(readFileSync(join(folder, 'payments.ndjson'), 'utf8'));
    expect(seen.map((e) => [e.position, e.type])).toEqual([
      [2, 'PaymentProcessed'],
      [4, 'PaymentProcessed'],
      [6, 'PaymentProcessed'],
    ]);
  });
});

describe.concurrent('evlog consume --exec', () => {
  it('gives the command the event as exactly one JSON line on stdin, and EVLOG_* variables', async ({ tmp, db }) => {
    await appendEvents(db, [
      { topic: 'orders', key: 'order-1', type: 'OrderPlaced', data: { total: 12.5 }, metadata: { source: 'web' } },
      { topic: 'orders', type: 'Tick', data: {} },
    ]);
    const out = join(tmp, 'out');
    mkdirSync(out);
    const command = `cat > "${out}/stdin-$EVLOG_POSITION"; env | grep '^EVLOG_' | sort > "${out}/env-$EVLOG_POSITION"`;
    await ok(['consume', 'dump', '--topic', 'orders', '--exec', command, '--db', db]);

    const events = await readEvents(db);
    const tail = (await ok(['tail', '--json', '--from', 'beginning', '--db', db])).stdout.split('\n');
    for (const [i, event] of events.entries()) {
      const stdin = readFileSync(join(out, `stdin-${event.position}`), 'utf8');
      // The same bytes `tail --json` prints for the event: one line, then a newline.
      expect(stdin).toBe(`${tail[i]}\n`);
      expect(Object.keys(JSON.parse(stdin))).toEqual([
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
      ]);
      const vars = Object.fromEntries(
        readFileSync(join(out, `env-${event.position}`), 'utf8')
          .trimEnd()
          .split('\n')
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      expect(vars).toMatchObject({
        EVLOG_POSITION: String(event.position),
        EVLOG_TYPE: event.type,
        EVLOG_ATTEMPT: '1',
        EVLOG_GROUP: 'dump',
        EVLOG_TOPIC: 'orders',
        EVLOG_KEY: event.key ?? '',
        EVLOG_ID: event.id,
      });
    }
  });

  it('dead-letters a command that exits non-zero, with the tail of its stderr as the error', async ({ tmp, db }) => {
    await appendOrders(db, 3);
    // 10 kB of noise, then the line that says what went wrong; only position 2 fails.
    const command =
      '[ "$EVLOG_POSITION" != 2 ] && exit 0; ' +
      'i=0; while [ $i -lt 200 ]; do echo "noise line $i ......................................" >&2; i=$((i+1)); done; ' +
      'echo "smtp refused order $EVLOG_KEY" >&2; exit 3';
    const result = await ok(
      [
        'consume',
        'mailer',
        '--topic',
        'orders',
        '--exec',
        command,
        '--max-attempts',
        '2',
        '--backoff',
        '1ms',
        '--db',
        db,
      ],
      { cwd: tmp },
    );
    expect(result.stdout).toBe(
      'mailer: 3 events from orders (2 succeeded, 1 dead-lettered, 1 retry), checkpoint 3; see `evlog dlq list --group mailer`\n',
    );
    expect(result.stderr).toContain('mailer: position 2 (OrderPlaced) dead-lettered after 2 attempts (handler-failed)');
    const [entry, ...others] = await deadLettersOf(db, 'mailer');
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      position: 2,
      reason: 'handler-failed',
      attempts: 2,
      status: 'parked',
      type: 'OrderPlaced',
    });
    expect(entry?.error).toMatch(/^exited with code 3: /);
    expect(entry?.error).toMatch(/smtp refused order order-2$/);
    expect(entry?.error).not.toContain('noise line 0 ');
    expect(entry?.error.length).toBeLessThanOrEqual(4096 + 100);
    expect(await checkpointOf(db, 'mailer')).toBe(3);
  });

  it('kills a command that runs past --timeout, and what it started, and records the reason timeout', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 2);
    const pids = join(tmp, 'pids');
    mkdirSync(pids);
    // The shell waits on a child: killing only the shell would leave `sleep 30` running.
    const command = `[ "$EVLOG_POSITION" = 2 ] && exit 0; sleep 30 & echo $! > "${pids}/sleep-$EVLOG_ATTEMPT"; wait`;
    const started = Date.now();
    const result = await ok(
      [
        'consume',
        'slow',
        '--topic',
        'orders',
        '--exec',
        command,
        '--timeout',
        '300ms',
        '--max-attempts',
        '2',
        '--backoff',
        '1ms',
        '--db',
        db,
        '--json',
      ],
      { timeoutMs: 20_000 },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(JSON.parse(result.stdout)).toMatchObject({
      events: 2,
      succeeded: 1,
      deadLettered: 1,
      retries: 1,
      checkpoint: 2,
    });
    const [entry] = await deadLettersOf(db, 'slow');
    expect(entry).toMatchObject({ position: 1, reason: 'timeout', attempts: 2 });
    expect(entry?.error).toMatch(/^timed out after 300 ms/);
    const sleeps = readdirSync(pids).map((name) => Number(readFileSync(join(pids, name), 'utf8')));
    expect(sleeps).toHaveLength(2);
    await waitUntil(() => sleeps.every((pid) => !isRunning(pid)), 'the timed-out commands’ children to end', 5000);
  });

  it('a module handler that hangs past --timeout is dead-lettered, and the command still ends', async ({ tmp, db }) => {
    await appendOrders(db, 2);
    const log = join(tmp, 'deliveries.log');
    const started = Date.now();
    const result = await ok(
      [
        'consume',
        'stuck',
        '--topic',
        'orders',
        '--handler',
        handler('hang.mjs'),
        '--timeout',
        '200',
        '--max-attempts',
        '1',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log }, timeoutMs: 25_000 },
    );
    // The handler's minute-long timer must not keep a finished consumer alive.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(JSON.parse(result.stdout)).toMatchObject({ events: 2, deadLettered: 2, checkpoint: 2 });
    const entries = await deadLettersOf(db, 'stuck');
    expect(entries.map((e) => [e.position, e.reason, e.error])).toEqual([
      [1, 'timeout', 'timed out after 200 ms'],
      [2, 'timeout', 'timed out after 200 ms'],
    ]);
  });
});

describe.concurrent('evlog consume retries', () => {
  it('retries with backoff 50 ms, then 100 ms, and succeeds at attempt 3 with no dead letter', async ({ tmp, db }) => {
    await appendOrders(db, 2);
    const log = join(tmp, 'deliveries.log');
    const state = join(tmp, 'state');
    mkdirSync(state);
    const result = await ok(
      [
        'consume',
        'flaky',
        '--topic',
        'orders',
        '--handler',
        handler('fail-times.mjs'),
        '--max-attempts',
        '3',
        '--backoff',
        '50ms',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log, HANDLER_STATE: state, HANDLER_FAIL_TIMES: '2' } },
    );
    expect(JSON.parse(result.stdout)).toEqual({
      group: 'flaky',
      topic: 'orders',
      events: 2,
      succeeded: 2,
      deadLettered: 0,
      retries: 4,
      checkpoint: 2,
      stopped: 'caught-up',
    });
    expect(result.stderr).toContain(
      'flaky: position 1 (OrderPlaced) failed attempt 1, retrying in 50 ms: Error: flaky: failure 1 of 2',
    );
    expect(result.stderr).toContain('failed attempt 2, retrying in 100 ms');
    const deliveries = readDeliveries(log);
    expect(deliveries.map((d) => [d.position, d.attempt])).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 2],
      [2, 3],
    ]);
    for (const position of [1, 2]) {
      const [a, b, c] = deliveries.filter((d) => d.position === position).map((d) => d.time) as [
        number,
        number,
        number,
      ];
      expect(b - a).toBeGreaterThanOrEqual(50);
      expect(c - b).toBeGreaterThanOrEqual(100);
      expect(c - a).toBeGreaterThanOrEqual(150);
    }
    expect(await deadLettersOf(db, 'flaky')).toEqual([]);
  });

  it('retries an --exec command the same way', async ({ tmp, db }) => {
    await appendOrders(db, 1);
    const log = join(tmp, 'deliveries.log');
    const state = join(tmp, 'state');
    mkdirSync(state);
    const result = await ok(
      [
        'consume',
        'flaky',
        '--topic',
        'orders',
        '--exec',
        handler('fail-times.sh'),
        '--max-attempts',
        '3',
        '--backoff',
        '50',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log, HANDLER_STATE: state, HANDLER_FAIL_TIMES: '2' } },
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ succeeded: 1, deadLettered: 0, retries: 2 });
    const times = readDeliveries(log).map((d) => d.time);
    expect(readDeliveries(log).map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect((times[2] as number) - (times[0] as number)).toBeGreaterThanOrEqual(150);
    expect(await deadLettersOf(db, 'flaky')).toEqual([]);
  });

  it('dead-letters an event after exactly --max-attempts, moves the checkpoint past it, and goes on', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 4);
    const log = join(tmp, 'deliveries.log');
    const result = await ok(
      [
        'consume',
        'strict',
        '--topic',
        'orders',
        '--handler',
        handler('fail-always.mjs'),
        '--max-attempts',
        '4',
        '--backoff',
        '1ms',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log, HANDLER_FAIL_POSITIONS: '2' } },
    );
    expect(JSON.parse(result.stdout)).toMatchObject({
      events: 4,
      succeeded: 3,
      deadLettered: 1,
      retries: 3,
      checkpoint: 4,
    });
    expect(readDeliveries(log).map((d) => [d.position, d.attempt])).toEqual([
      [1, 1],
      [2, 1],
      [2, 2],
      [2, 3],
      [2, 4],
      [3, 1],
      [4, 1],
    ]);
    const [entry, ...others] = await deadLettersOf(db, 'strict');
    expect(others).toEqual([]);
    expect(entry).toMatchObject({
      position: 2,
      reason: 'handler-failed',
      attempts: 4,
      status: 'parked',
      topic: 'orders',
    });
    expect(entry?.error).toContain('always fails (position 2, attempt 4)');
    expect(entry?.lastFailedAt).toBeGreaterThanOrEqual(entry?.firstFailedAt as number);

    // The next run does not deliver the dead letter again: it waits in the queue for a redrive.
    const again = await ok(['consume', 'strict', '--db', db, '--json'], { env: { HANDLER_LOG: log } });
    expect(JSON.parse(again.stdout)).toMatchObject({ events: 0, checkpoint: 4 });
    expect(readDeliveries(log)).toHaveLength(7);
  });

  it('--max-attempts 1 dead-letters at the first failure, without a retry', async ({ tmp, db }) => {
    await appendOrders(db, 2);
    const log = join(tmp, 'deliveries.log');
    const result = await ok(
      [
        'consume',
        'once',
        '--topic',
        'orders',
        '--handler',
        handler('fail-always.mjs'),
        '--max-attempts',
        '1',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log } },
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ events: 2, deadLettered: 2, retries: 0, checkpoint: 2 });
    expect(readDeliveries(log).map((d) => d.attempt)).toEqual([1, 1]);
    expect((await deadLettersOf(db, 'once')).map((e) => e.attempts)).toEqual([1, 1]);
  });
});

describe.concurrent('evlog consume refuses bad input', () => {
  const cases: { name: string; args: string[]; code: number; message: RegExp }[] = [
    {
      name: 'an unknown group without --topic',
      args: ['new-group', '--exec', 'cat'],
      code: 2,
      message: /give it a --topic/,
    },
    { name: 'no handler', args: ['g', '--topic', 'orders'], code: 2, message: /needs a handler/ },
    {
      name: 'both --exec and --handler',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--handler', 'h.mjs'],
      code: 2,
      message: /either --exec or --handler/,
    },
    {
      name: '--max-attempts 0',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--max-attempts', '0'],
      code: 2,
      message: /--max-attempts/,
    },
    {
      name: '--max-attempts abc',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--max-attempts', 'abc'],
      code: 2,
      message: /--max-attempts/,
    },
    {
      name: '--max-attempts 1.5',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--max-attempts', '1.5'],
      code: 2,
      message: /--max-attempts/,
    },
    {
      name: '--backoff nonsense',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--backoff', 'nonsense'],
      code: 2,
      message: /--backoff/,
    },
    {
      name: '--timeout 0',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--timeout', '0'],
      code: 2,
      message: /--timeout/,
    },
    {
      name: '--limit -1',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--limit', '-1'],
      code: 2,
      message: /--limit/,
    },
    {
      name: '--checkpoint-every 0',
      args: ['g', '--topic', 'orders', '--exec', 'cat', '--checkpoint-every', '0'],
      code: 2,
      message: /--checkpoint-every/,
    },
    {
      name: 'a bad group name',
      args: ['-bad name', '--topic', 'orders', '--exec', 'cat'],
      code: 2,
      message: /bad name/,
    },
    {
      name: 'a group name with a space',
      args: ['bad name', '--topic', 'orders', '--exec', 'cat'],
      code: 2,
      message: /not a group name/,
    },
    {
      name: 'a handler module that is missing',
      args: ['g', '--topic', 'orders', '--handler', './nowhere.mjs'],
      code: 5,
      message: /no handler module at .*nowhere\.mjs/,
    },
    {
      name: 'a handler module without a default export',
      args: ['g', '--topic', 'orders', '--handler', handler('no-default.mjs')],
      code: 2,
      message: /no default export/,
    },
  ];

  it.for(cases)('$name: exit $code, one evlog: line and a hint, nothing delivered', async ({ args, code, message }, {
    tmp,
    db,
  }) => {
    await appendOrders(db, 1);
    const result = await runEvlog(['consume', ...args, '--db', db], { cwd: tmp });
    expect(result.stdout).toBe('');
    expect(result.code).toBe(code);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^evlog: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toMatch(/^hint: ./);
    expect(await checkpointOf(db, 'g')).toBeUndefined();
  });

  it('a missing store: exit 5 with a hint, and no file made', async ({ tmp }) => {
    const db = join(tmp, 'missing.db');
    const result = await runEvlog(['consume', 'g', '--topic', 'orders', '--exec', 'cat', '--db', db]);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^evlog: no store at .*missing\.db\nhint: /);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('changing the topic of a group that has a checkpoint: exit 4, the group unchanged', async ({ tmp, db }) => {
    await seedTwoTopics(db, 2);
    await ok(['consume', 'g', '--topic', 'orders', '--exec', 'cat > /dev/null', '--db', db]);
    const result = await runEvlog(['consume', 'g', '--topic', 'payments', '--exec', 'cat > /dev/null', '--db', db], {
      cwd: tmp,
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/^evlog: consumer group "g" consumes topic "orders", not "payments"\nhint: .+\n$/);
    const again = await ok(['consume', 'g', '--db', db, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ topic: 'orders', checkpoint: 3 });
  });

  it('a group that has not delivered anything yet may change its topic', async ({ db }) => {
    await appendEvents(db, [{ topic: 'payments', type: 'PaymentProcessed', data: {} }]);
    await ok(['consume', 'g', '--topic', 'orders', '--exec', 'cat > /dev/null', '--db', db]);
    const moved = await ok(['consume', 'g', '--topic', 'payments', '--db', db, '--json']);
    expect(JSON.parse(moved.stdout)).toMatchObject({ topic: 'payments', events: 1, checkpoint: 1 });
  });
});
