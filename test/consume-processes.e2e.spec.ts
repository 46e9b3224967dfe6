import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import {
  appendOrders,
  checkpointOf,
  deadLettersOf,
  expectInOrderAtLeastOnce,
  handler,
  readDeliveries,
  runsOf,
  waitForDeliveries,
  waitUntil,
} from './support/consumers.js';
import { it, runEvlogOk as ok, type RunningEvlog, runEvlog, startEvlog } from './support/run-evlog.js';

// `evlog consume` as real processes that are killed, interrupted and raced against each other,
// with a delivery log (fixtures/handlers/delivery-log.mjs: `position attempt pid time`, one
// O_APPEND write per delivery) as the witness of what was delivered, by whom, in what order.

/** Everything the process wrote on stderr so far, kept up to date. */
function stderrOf(running: RunningEvlog): () => string {
  let text = '';
  running.child.stderr?.on('data', (chunk: string) => {
    text += chunk;
  });
  return () => text;
}

const random = (from: number, to: number) => from + Math.floor(Math.random() * (to - from + 1));

describe.concurrent('a consumer killed or stopped', () => {
  it('killed with SIGKILL at random moments, then run to the end: every position in order, at most the one in flight twice', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 200);
    const log = join(tmp, 'deliveries.log');
    const args = ['consume', 'mailer', '--topic', 'orders', '--handler', handler('delivery-log.mjs'), '--db', db];
    const env = { HANDLER_LOG: log, HANDLER_SLEEP_MS: '5' };
    const kills: number[] = [];
    for (const share of [0.15, 0.45, 0.75]) {
      // A random number of deliveries into this part of the topic: a different moment each time.
      const target = Math.round(share * 200) + random(0, 40);
      const running = startEvlog(args, { env });
      await waitForDeliveries(log, target, 20_000);
      running.child.kill('SIGKILL');
      expect((await running.result).code).toBe(null);
      kills.push(target);
    }
    const last = await ok([...args, '--json'], { env });
    expect(JSON.parse(last.stdout)).toMatchObject({ checkpoint: 200, stopped: 'caught-up' });

    const deliveries = readDeliveries(log);
    const redelivered = expectInOrderAtLeastOnce(deliveries, 200, 1);
    expect(redelivered).toHaveLength(3);
    expect(deliveries).toHaveLength(200 + redelivered.reduce((a, b) => a + b, 0));
    expect(await checkpointOf(db, 'mailer')).toBe(200);
  });

  it('--checkpoint-every 100 on 1000 events, killed with SIGKILL: delivers at most 100 again', async ({ tmp, db }) => {
    await appendOrders(db, 1000);
    const log = join(tmp, 'deliveries.log');
    const args = [
      'consume',
      'bulk',
      '--topic',
      'orders',
      '--handler',
      handler('delivery-log.mjs'),
      '--checkpoint-every',
      '100',
      '--db',
      db,
    ];
    const running = startEvlog(args, { env: { HANDLER_LOG: log, HANDLER_SLEEP_MS: '1' } });
    await waitForDeliveries(log, random(350, 650), 20_000);
    running.child.kill('SIGKILL');
    await running.result;
    const killedAt = readDeliveries(log).length;
    const checkpoint = (await checkpointOf(db, 'bulk')) as number;
    expect(checkpoint % 100).toBe(0);
    expect(killedAt - checkpoint).toBeLessThanOrEqual(100);

    const rest = await ok([...args, '--json'], { env: { HANDLER_LOG: log } });
    expect(JSON.parse(rest.stdout)).toMatchObject({ events: 1000 - checkpoint, checkpoint: 1000 });
    const [again] = expectInOrderAtLeastOnce(readDeliveries(log), 1000, 100);
    expect(again).toBe(killedAt - checkpoint);
  });

  it('Ctrl-C (SIGINT to evlog only) stops after the event in flight, exit 0, and the next run goes on after it', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 5);
    const log = join(tmp, 'deliveries.log');
    // $PPID is evlog: the command runs as `sh -c`, in a process group of its own.
    const command = `echo "$EVLOG_POSITION $EVLOG_ATTEMPT $PPID $(date +%s%3N)" >> "${log}"; sleep 0.6`;
    const running = startEvlog(['consume', 'mailer', '--topic', 'orders', '--exec', command, '--db', db, '--json']);
    const stderr = stderrOf(running);
    await waitForDeliveries(log, 2);
    // What a terminal does on Ctrl-C to the foreground job; the handler is not in that group.
    running.child.kill('SIGINT');
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(stderr()).toContain('evlog: stopping after the event in flight');
    expect(JSON.parse(result.stdout)).toMatchObject({ events: 2, succeeded: 2, checkpoint: 2, stopped: 'signal' });
    expect(readDeliveries(log).map((d) => d.position)).toEqual([1, 2]);
    expect(await checkpointOf(db, 'mailer')).toBe(2);

    const rest = await ok(['consume', 'mailer', '--db', db, '--json']);
    expect(JSON.parse(rest.stdout)).toMatchObject({ events: 3, checkpoint: 5 });
    expect(readDeliveries(log).map((d) => d.position)).toEqual([1, 2, 3, 4, 5]);
  });

  it('Ctrl-C during a backoff pause stops at once; the event was not done with, so the next run delivers it', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 2);
    const log = join(tmp, 'deliveries.log');
    const running = startEvlog(
      [
        'consume',
        'mailer',
        '--topic',
        'orders',
        '--handler',
        handler('fail-always.mjs'),
        '--backoff',
        '30s',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log } },
    );
    await waitForDeliveries(log, 1);
    await sleep(200);
    const stoppedAt = Date.now();
    running.child.kill('SIGINT');
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(JSON.parse(result.stdout)).toMatchObject({
      events: 0,
      deadLettered: 0,
      retries: 1,
      checkpoint: 0,
      stopped: 'signal',
    });
    expect(await deadLettersOf(db, 'mailer')).toEqual([]);

    const fixed = await ok(['consume', 'mailer', '--handler', handler('delivery-log.mjs'), '--db', db, '--json'], {
      env: { HANDLER_LOG: log },
    });
    expect(JSON.parse(fixed.stdout)).toMatchObject({ events: 2, succeeded: 2, checkpoint: 2 });
    expect(readDeliveries(log).map((d) => [d.position, d.attempt])).toEqual([
      [1, 1],
      [1, 1],
      [2, 1],
    ]);
  });

  it('Ctrl-C while --follow waits for events: exit 0 at once, checkpoint kept', async ({ tmp, db }) => {
    await appendOrders(db, 3);
    const log = join(tmp, 'deliveries.log');
    const running = startEvlog(
      [
        'consume',
        'live',
        '--topic',
        'orders',
        '--handler',
        handler('delivery-log.mjs'),
        '--follow',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log } },
    );
    await waitForDeliveries(log, 3);
    await sleep(200);
    const stoppedAt = Date.now();
    running.child.kill('SIGINT');
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(3000);
    expect(JSON.parse(result.stdout)).toMatchObject({ events: 3, checkpoint: 3, stopped: 'signal' });
    expect(await checkpointOf(db, 'live')).toBe(3);
  });
});

describe.concurrent('--follow', () => {
  it('delivers events that another process appends later, and --limit stops it', async ({ tmp, db }) => {
    await appendOrders(db, 2);
    const log = join(tmp, 'deliveries.log');
    const running = startEvlog(
      [
        'consume',
        'live',
        '--topic',
        'orders',
        '--handler',
        handler('delivery-log.mjs'),
        '--follow',
        '--limit',
        '4',
        '--db',
        db,
        '--json',
      ],
      { env: { HANDLER_LOG: log } },
    );
    await waitForDeliveries(log, 2);
    await sleep(300);
    expect(running.child.exitCode).toBe(null);
    const appendedAt = Date.now();
    await appendOrders(db, 5, 3);
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ events: 4, checkpoint: 4, stopped: 'limit' });
    const deliveries = readDeliveries(log);
    expect(deliveries.map((d) => d.position)).toEqual([1, 2, 3, 4]);
    // The same notification as tail -f: well under the lease's renewal period (5 s) it waits at most.
    expect((deliveries[2] as { time: number }).time - appendedAt).toBeLessThan(3000);
  });
});

describe.concurrent('two processes on one group', () => {
  it('with --follow: one delivers, the other waits; after a SIGKILL the other takes over at once; nothing lost, nothing doubled but the event in flight', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 100);
    const log = join(tmp, 'deliveries.log');
    const args = [
      'consume',
      'mailer',
      '--topic',
      'orders',
      '--handler',
      handler('delivery-log.mjs'),
      '--follow',
      '--db',
      db,
      '--json',
    ];
    const env = { HANDLER_LOG: log, HANDLER_SLEEP_MS: '15' };
    const first = startEvlog(args, { env, timeoutMs: 60_000 });
    await waitForDeliveries(log, 10);
    const second = startEvlog(args, { env, timeoutMs: 60_000 });
    const secondStderr = stderrOf(second);
    await waitUntil(() => secondStderr().includes('waiting to take over'), 'the second process to wait');
    expect(secondStderr()).toMatch(/^mailer: pid \d+ on .+ holds the group; waiting to take over\n$/);

    // A third process appends while the first delivers.
    await appendOrders(db, 100, 101);
    await waitForDeliveries(log, random(130, 170), 30_000);
    expect(new Set(readDeliveries(log).map((d) => d.pid))).toEqual(new Set([first.child.pid]));
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.result;

    // Its pid is dead on this host: no need to wait out the 15 s lease.
    await waitUntil(() => readDeliveries(log).some((d) => d.pid === second.child.pid), 'the takeover', 10_000);
    const takeover = readDeliveries(log).find((d) => d.pid === second.child.pid) as { time: number };
    expect(takeover.time - killedAt).toBeLessThan(5000);
    await waitUntil(() => readDeliveries(log).some((d) => d.position === 200), 'position 200', 30_000);
    second.child.kill('SIGINT');
    const result = await second.result;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ checkpoint: 200, stopped: 'signal' });

    const deliveries = readDeliveries(log);
    expect(runsOf(deliveries).map((run) => run.pid)).toEqual([first.child.pid, second.child.pid]);
    const [again] = expectInOrderAtLeastOnce(deliveries, 200, 1);
    expect(deliveries).toHaveLength(200 + (again as number));
  });

  it('with --follow: when the holder stops with Ctrl-C, the other one carries on from its checkpoint', async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 60);
    const log = join(tmp, 'deliveries.log');
    const args = [
      'consume',
      'mailer',
      '--topic',
      'orders',
      '--handler',
      handler('delivery-log.mjs'),
      '--follow',
      '--db',
      db,
    ];
    const env = { HANDLER_LOG: log, HANDLER_SLEEP_MS: '20' };
    const first = startEvlog(args, { env, timeoutMs: 60_000 });
    await waitForDeliveries(log, 5);
    const second = startEvlog(args, { env, timeoutMs: 60_000 });
    const secondStderr = stderrOf(second);
    await waitUntil(() => secondStderr().includes('waiting to take over'), 'the second process to wait');
    first.child.kill('SIGINT');
    expect((await first.result).code).toBe(0);
    await waitUntil(() => readDeliveries(log).some((d) => d.position === 60), 'position 60', 30_000);
    second.child.kill('SIGINT');
    expect((await second.result).code).toBe(0);
    const deliveries = readDeliveries(log);
    expect(runsOf(deliveries).map((run) => run.pid)).toEqual([first.child.pid, second.child.pid]);
    // A clean stop leaves nothing in flight: nothing is delivered twice.
    expect(expectInOrderAtLeastOnce(deliveries, 60, 0)).toEqual([0]);
  });

  it('without --follow, the second process is refused with exit 4 and a hint', async ({ tmp, db }) => {
    await appendOrders(db, 50);
    const log = join(tmp, 'deliveries.log');
    const first = startEvlog(
      ['consume', 'mailer', '--topic', 'orders', '--handler', handler('delivery-log.mjs'), '--db', db],
      { env: { HANDLER_LOG: log, HANDLER_SLEEP_MS: '100' }, timeoutMs: 30_000 },
    );
    await waitForDeliveries(log, 1);
    const second = await runEvlog(['consume', 'mailer', '--db', db], { env: { HANDLER_LOG: log } });
    expect(second.code).toBe(4);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(
      new RegExp(
        `^evlog: consumer group "mailer" is being consumed by pid ${first.child.pid} on .+\\nhint: with --follow this process waits and takes over when the other one stops\\n$`,
      ),
    );
    first.child.kill('SIGINT');
    expect((await first.result).code).toBe(0);
    expect(new Set(readDeliveries(log).map((d) => d.pid))).toEqual(new Set([first.child.pid]));
  });
});

describe('a takeover with an --exec handler', () => {
  it("after a SIGKILL, the standby delivers the event in flight only once the dead holder's command was stopped", async ({
    tmp,
    db,
  }) => {
    await appendOrders(db, 2);
    const log = join(tmp, 'spans.log');
    // "position start|end|stopped evlog-pid time": the command runs in a process group of its
    // own, which a SIGKILL of evlog does not reach by itself; $PPID is the evlog that ran it.
    const note = (phase: string) => `echo "$EVLOG_POSITION ${phase} $PPID $(date +%s%3N)" >> "${log}"`;
    const command = `trap '${note('stopped')}; exit 143' TERM; ${note('start')}; sleep 5 & wait; ${note('end')}`;
    const args = ['consume', 'mailer', '--topic', 'orders', '--exec', command, '--follow', '--db', db];
    const spans = () =>
      (existsSync(log) ? readFileSync(log, 'utf8') : '')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [position, phase, pid, time] = line.split(' ');
          return { position: Number(position), phase, pid: Number(pid), time: Number(time) };
        });
    const first = startEvlog(args, { timeoutMs: 60_000 });
    await waitUntil(() => spans().length >= 1, 'the first delivery to start');
    const second = startEvlog(args, { timeoutMs: 60_000 });
    const secondStderr = stderrOf(second);
    await waitUntil(() => secondStderr().includes('waiting to take over'), 'the second process to wait');
    first.child.kill('SIGKILL');
    await first.result;
    await waitUntil(() => spans().some((span) => span.pid === second.child.pid), 'the takeover', 20_000);
    second.child.kill('SIGINT');
    expect((await second.result).code).toBe(0);

    const byFirst = spans().filter((span) => span.pid === first.child.pid);
    const bySecond = spans().filter((span) => span.pid === second.child.pid);
    expect(byFirst.map((span) => [span.position, span.phase])).toEqual([
      [1, 'start'],
      [1, 'stopped'],
    ]);
    // Ctrl-C let the second finish the event in flight: position 1 again, then nothing more.
    expect(bySecond.map((span) => [span.position, span.phase])).toEqual([
      [1, 'start'],
      [1, 'end'],
    ]);
    const stopped = byFirst[1]?.time as number;
    expect(
      bySecond[0]?.time,
      "the standby starts position 1 after the first one's command stopped",
    ).toBeGreaterThanOrEqual(stopped);
    expect(await checkpointOf(db, 'mailer')).toBe(1);
  }, 40_000);
});
