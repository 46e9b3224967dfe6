import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect } from 'vitest';
import type { EventStore } from '../src/index.js';
import {
  EVLOG_LIBRARY,
  it,
  type RunResult,
  readEvents,
  runEvlog,
  type StoredEventJson,
  toNdjson,
} from './support/run-evlog.js';

// Real processes race for one store file: the SQLite write lock, not the test, orders them.

interface Marked {
  writer: string;
  seq: number;
}

const STREAMS = ['hot-0', 'hot-1', 'hot-2'];

/** A node script that uses evlog as a library: one transaction per event, as a service would. */
function writeLibraryWriter(tmp: string): string {
  const script = join(tmp, 'library-writer.mjs');
  writeFileSync(
    script,
    `import { openStore } from ${JSON.stringify(pathToFileURL(EVLOG_LIBRARY).href)};
const [db, writer, count] = process.argv.slice(2);
const store = openStore(db);
for (let seq = 0; seq < Number(count); seq++) {
  await store.appendEvents([
    { topic: 'orders', key: 'hot-' + (seq % 3), type: 'Counted', data: { writer, seq } },
  ]);
}
store.close();
`,
  );
  return script;
}

function runNode(script: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function expectOk(result: Promise<RunResult>): Promise<void> {
  const { code, stderr } = await result;
  expect(stderr).toBe('');
  expect(code).toBe(0);
}

/** The store opened through the library (dist/index.js), as a Node service would. */
async function openLibraryStore(db: string): Promise<EventStore> {
  const library = (await import(pathToFileURL(EVLOG_LIBRARY).href)) as typeof import('../src/index.js');
  return library.openStore(db, { create: false });
}

/** The checks every store must pass, however its writers raced. */
function expectConsistent(events: StoredEventJson[]): void {
  expect(events.map((e) => e.position)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  const versions = new Map<string, number[]>();
  for (const event of events) {
    const stream = `${event.topic}/${event.key}`;
    versions.set(stream, [...(versions.get(stream) ?? []), event.version]);
  }
  for (const [stream, list] of versions) {
    expect({ stream, versions: list }).toEqual({ stream, versions: list.map((_, i) => i + 1) });
  }
  const times = events.map((e) => Date.parse(e.time));
  for (let i = 1; i < times.length; i++) {
    expect(times[i], `time at position ${i + 1}`).toBeGreaterThanOrEqual(times[i - 1] as number);
  }
}

describe('many writers at once', () => {
  it('loses nothing and doubles nothing: CLI single appends, CLI batches and library writers together', async ({
    db,
    tmp,
  }) => {
    expect((await runEvlog(['init', '--db', db])).code).toBe(0);
    const expected: Marked[] = [];

    // 4 writers that each run 4 `evlog append` processes one after another.
    const singleWriter = async (writer: string) => {
      for (let seq = 0; seq < 4; seq++) {
        expected.push({ writer, seq });
        const data = JSON.stringify({ writer, seq });
        await expectOk(
          runEvlog(['append', 'orders', data, '-t', 'Counted', '-k', STREAMS[seq % 3] as string, '--db', db]),
        );
      }
    };
    // 3 writers that each run 2 `evlog append --batch` processes of 40 events.
    const batchWriter = async (writer: string) => {
      for (let batch = 0; batch < 2; batch++) {
        const lines = Array.from({ length: 40 }, (_, i) => {
          const seq = batch * 40 + i;
          expected.push({ writer, seq });
          // Some events on the shared streams, some on the writer's own stream.
          const key = seq % 2 === 0 ? STREAMS[seq % 3] : `own-${writer}`;
          return { topic: 'orders', key, type: 'Counted', data: { writer, seq } };
        });
        await expectOk(runEvlog(['append', '--batch', '--db', db], { input: toNdjson(lines) }));
      }
    };
    // 2 node processes using the library, 60 transactions each.
    const script = writeLibraryWriter(tmp);
    const libraryWriter = async (writer: string) => {
      for (let seq = 0; seq < 60; seq++) expected.push({ writer, seq });
      await expectOk(runNode(script, [db, writer, '60']));
    };

    await Promise.all([
      ...['s1', 's2', 's3', 's4'].map(singleWriter),
      ...['b1', 'b2', 'b3'].map(batchWriter),
      ...['l1', 'l2'].map(libraryWriter),
    ]);

    const events = await readEvents(db);
    const markers = events.map((e) => e.data as Marked);
    const byWriterThenSeq = (a: Marked, b: Marked) => a.writer.localeCompare(b.writer) || a.seq - b.seq;
    expect(events).toHaveLength(16 + 240 + 120);
    expect([...markers].sort(byWriterThenSeq)).toEqual([...expected].sort(byWriterThenSeq));
    expectConsistent(events);
    // Each writer appended one event after another: its events keep that order.
    for (const writer of new Set(markers.map((m) => m.writer))) {
      const seqs = markers.filter((m) => m.writer === writer).map((m) => m.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });

  it('creates the store once when 8 processes append to a file that does not exist yet', async ({ db }) => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, writer) =>
        runEvlog(['append', 'orders', JSON.stringify({ writer }), '-t', 'Counted', '-k', 'first', '--db', db]),
      ),
    );
    expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, '']));
    const events = await readEvents(db);
    expect(events.map((e) => (e.data as { writer: number }).writer).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expectConsistent(events);
  });
});

describe('expected versions under contention', () => {
  it('lets exactly one of 8 processes create a stream with --expect none; the others exit 4', async ({ db }) => {
    expect((await runEvlog(['init', '--db', db])).code).toBe(0);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, writer) =>
        runEvlog([
          'append',
          'orders',
          JSON.stringify({ writer }),
          '-t',
          'OrderPlaced',
          '-k',
          'order-race',
          '--expect',
          'none',
          '--json',
          '--db',
          db,
        ]),
      ),
    );
    const codes = results.map((r) => r.code);
    expect([...codes].sort()).toEqual([0, 4, 4, 4, 4, 4, 4, 4]);
    for (const loser of results.filter((r) => r.code === 4)) {
      expect(loser.stdout).toBe('');
      expect(loser.stderr).toContain('orders/order-race');
    }
    const events = await readEvents(db);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toEqual({ writer: codes.indexOf(0) });
  });

  it('keeps versions dense when 8 processes read the version, append with --expect it, and retry on exit 4', async ({
    db,
  }) => {
    const stream = 'orders/order-counter';
    const first = await runEvlog([
      'append',
      'orders',
      '{"writer":-1,"expected":0}',
      '-t',
      'Counted',
      '-k',
      'order-counter',
      '--db',
      db,
    ]);
    expect(first.code).toBe(0);

    // The version is read through the library in this process: a read spawned per attempt
    // would double the processes without changing what is tested, the --expect check.
    const reader = await openLibraryStore(db);
    const writer = async (id: number): Promise<number> => {
      for (let attempt = 1; attempt <= 60; attempt++) {
        const version = String(await reader.streamVersion('orders', 'order-counter'));
        const append = await runEvlog([
          'append',
          'orders',
          JSON.stringify({ writer: id, expected: Number(version) }),
          '-t',
          'Counted',
          '-k',
          'order-counter',
          '--expect',
          version,
          '--db',
          db,
        ]);
        if (append.code === 0) return attempt;
        expect(append.code, append.stderr).toBe(4);
        // Back off a little, at random, so the writers do not keep colliding in step.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 150));
      }
      throw new Error(`writer ${id} did not get through in 60 attempts`);
    };
    const attempts = await Promise.all(Array.from({ length: 8 }, (_, id) => writer(id))).finally(() => reader.close());
    // The race is real: at least one writer had to retry.
    expect(Math.max(...attempts)).toBeGreaterThan(1);

    const events = await readEvents(db, '--stream', stream);
    expect(events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const data = events.map((e) => e.data as { writer: number; expected: number });
    expect(data.map((d) => d.writer).sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7]);
    // Every append landed exactly on the version its writer read.
    expect(events.map((e) => (e.data as { expected: number }).expected)).toEqual(events.map((e) => e.version - 1));
    expectConsistent(events);
  });
});
