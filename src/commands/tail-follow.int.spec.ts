import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../cli.js';
import { openStore } from '../store/index.js';
import type { CommandIo } from './context.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function storePath(): string {
  const folder = mkdtempSync(join(tmpdir(), 'evlog-tail-'));
  folders.push(folder);
  return join(folder, 'evlog.db');
}

/** stdout that holds its first write until `release` is called, as a slow terminal would. */
function stallingStdout() {
  let text = '';
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let firstWrite = true;
  let signalFirstWrite: () => void = () => {};
  const firstWriteStarted = new Promise<void>((resolve) => {
    signalFirstWrite = resolve;
  });
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      if (firstWrite) {
        firstWrite = false;
        signalFirstWrite();
        void released.then(() => callback());
      } else callback();
    },
  });
  return { stream, text: () => text, release, firstWriteStarted };
}

function io(stdout: Writable): CommandIo {
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: process.cwd(), now: Date.now };
}

describe('tail --follow', () => {
  it('prints an event committed while the initial output was being written', async () => {
    const path = storePath();
    const writer = openStore(path);
    await writer.appendEvents([{ topic: 'orders', type: 'Early', data: {} }]);
    const stdout = stallingStdout();
    const running = main(
      ['tail', '--from', 'beginning', '-f', '--limit', '2', '-o', '{position} {type}', '--db', path],
      io(stdout.stream),
    );
    await stdout.firstWriteStarted;
    // The initial output is stuck in the terminal: another process commits now.
    await writer.appendEvents([{ topic: 'orders', type: 'Late', data: {} }]);
    stdout.release();
    expect(await running).toBe(0);
    expect(stdout.text()).toBe('1 Early\n2 Late\n');
    writer.close();
  });

  it('with --until <time>, follows until an event recorded after that time exists', async () => {
    const path = storePath();
    let now = Date.UTC(2026, 10, 22, 9, 0, 0);
    const clock = () => now;
    const writer = openStore(path, { clock });
    await writer.appendEvents([{ topic: 'orders', type: 'First', data: {} }]);
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk) => {
      text += String(chunk);
    });
    const until = new Date(now + 60_000).toISOString();
    const running = main(['tail', '-f', '--until', until, '-o', '{position} {type}', '--db', path], {
      ...io(out),
      now: clock,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    now += 30_000;
    await writer.appendEvents([{ topic: 'orders', type: 'InTime', data: {} }]);
    now += 60_000;
    await writer.appendEvents([{ topic: 'orders', type: 'TooLate', data: {} }]);
    expect(await running).toBe(0);
    expect(text).toBe('1 First\n2 InTime\n');
    writer.close();
  });
});
