import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect } from 'vitest';
import { it, runEvlogOk, SHOP_EVENTS, startEvlog } from './support/run-evlog.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('a shell handler never outlives its consumer', () => {
  it('is killed with its children when the consumer is killed with SIGKILL', async ({ tmp, db }) => {
    await runEvlogOk(['import', SHOP_EVENTS, '--db', db, '-q'], { cwd: tmp });
    // The handler records its shell's pid and a child's, then works for a long time.
    const consumer = startEvlog(
      [
        'consume',
        'slow',
        '--topic',
        'orders',
        '--db',
        db,
        '--exec',
        'sleep 30 & echo "$$ $!" > pids; wait; echo "$EVLOG_POSITION" >> delivered',
      ],
      { cwd: tmp },
    );
    await waitFor(
      () => existsSync(join(tmp, 'pids')) && readFileSync(join(tmp, 'pids'), 'utf8').includes('\n'),
      10_000,
    );
    const pids = readFileSync(join(tmp, 'pids'), 'utf8').trim().split(' ').map(Number);
    expect(pids.every(alive)).toBe(true);

    consumer.child.kill('SIGKILL');
    await consumer.result;
    await waitFor(() => !pids.some(alive), 3000);
    expect(existsSync(join(tmp, 'delivered'))).toBe(false);
  });
});
