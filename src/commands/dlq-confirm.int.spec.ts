import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { useTempStores } from '../store/sqlite/test-store.js';
import type { NewDeadLetter } from '../store/types.js';
import type { CommandIo } from './context.js';

const stores = useTempStores();

function line(n: number): NewDeadLetter {
  return {
    source: 'append',
    group: 'append',
    position: null,
    topic: 'orders',
    type: 'OrderPlaced',
    line: `{"type":"OrderPlaced","data":{"n":${n}}}`,
    reason: 'invalid',
    error: 'was invalid',
    attempts: 1,
  };
}

/** Runs the CLI in process with a terminal on stdin that answers `answer` (after `beforeAnswer`). */
async function runOnTerminal(args: string[], answer: string, beforeAnswer?: () => Promise<unknown>) {
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk) => {
    out += chunk;
  });
  stderr.on('data', (chunk) => {
    err += chunk;
    // Answer once the question is on the screen, as a person would.
    if (String(chunk).includes('[y/N]')) void (beforeAnswer?.() ?? Promise.resolve()).then(() => stdin.end(answer));
  });
  const io: CommandIo = { stdin, stdout, stderr, env: {}, cwd: process.cwd(), now: Date.now };
  const code = await main(args, io);
  return { code, stdout: out, stderr: err };
}

describe('dlq redrive and discard --all on a terminal', () => {
  it('ask first: "n" changes nothing, "y" goes ahead', async () => {
    const store = stores.open();
    await store.parkDeadLetters([line(1), line(2)]);
    const no = await runOnTerminal(['dlq', 'redrive', '--all', '--db', store.path], 'n\n');
    expect(no).toEqual({
      code: 0,
      stdout: '',
      stderr: 'redrive 2 parked dead letters? [y/N] nothing was redriven\n',
    });
    expect((await store.head()).position).toBe(0);

    const discardNo = await runOnTerminal(['dlq', 'discard', '--all', '--db', store.path], '\n');
    expect(discardNo.stderr).toBe('discard 2 parked dead letters? [y/N] nothing was discarded\n');
    expect(await store.countDeadLetters({ status: 'parked' })).toBe(2);

    const yes = await runOnTerminal(['dlq', 'redrive', '--all', '--db', store.path], 'y\n');
    expect(yes.code).toBe(0);
    expect(yes.stdout).toBe('redriven 1\nredriven 2\n');
    expect((await store.head()).position).toBe(2);
  });

  it('warns above 1,000 entries, and --dry-run lists them without changing any', async () => {
    const store = stores.open();
    await store.parkDeadLetters(Array.from({ length: 1001 }, (_, i) => line(i)));
    const plan = await runOnTerminal(['dlq', 'discard', '--all', '--dry-run', '--db', store.path], '');
    expect(plan.code).toBe(0);
    expect(plan.stderr).toBe(
      'warning: this discards 1001 parked dead letters\ndry run: 1001 entries would be discarded; nothing changed\n',
    );
    expect(plan.stdout.split('\n').filter(Boolean)).toHaveLength(1001);
    expect(await store.countDeadLetters({ status: 'parked' })).toBe(1001);
  });

  it('act only on what was asked about: entries parked while the question waits are left alone', async () => {
    const store = stores.open();
    await store.parkDeadLetters([line(1), line(2)]);
    const other = stores.open({}, store.path);
    const result = await runOnTerminal(['dlq', 'discard', '--all', '--db', store.path], 'y\n', () =>
      other.parkDeadLetters([line(3)]),
    );
    expect(result.stderr).toContain('discard 2 parked dead letters? [y/N] ');
    expect(result.stdout).toBe('discarded 1\ndiscarded 2\n');
    expect((await store.listDeadLetters({ status: 'parked' }, { limit: 5 })).map((e) => e.id)).toEqual([3]);
  });
});
