import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRecord } from '../store/index.js';
import { handlerSpecFromOptions, loadHandler, settingsFromJson, settingsToJson } from './handler.js';

const RECORD: EventRecord = {
  position: 42,
  id: '0192f5c8-1f4e-7a3b-8c2d-1234567890ab',
  topic: 'orders',
  key: 'order-17',
  version: 3,
  type: 'OrderPlaced',
  schemaVersion: null,
  time: Date.UTC(2026, 10, 22, 9, 0, 0, 123),
  dataJson: '{"total":12.5}',
  metadataJson: '{"correlationId":"c-1"}',
};

const folders: string[] = [];
function folder(): string {
  const path = mkdtempSync(join(tmpdir(), 'evlog-handler-'));
  folders.push(path);
  return path;
}
afterEach(() => {
  for (const path of folders.splice(0)) rmSync(path, { recursive: true, force: true });
});

const delivery = { group: 'mailer', attempt: 2, timeoutMs: 5000 };

describe('shell command handlers (--exec)', () => {
  it('get the event as one JSON line on stdin and its fields in EVLOG_* variables', async () => {
    const cwd = folder();
    const deliver = await loadHandler(
      { exec: 'cat > event.json; env | grep ^EVLOG_ | sort > env.txt' },
      { env: { PATH: process.env.PATH }, cwd },
    );
    expect(await deliver(RECORD, delivery)).toEqual({ ok: true });
    const line = readFileSync(join(cwd, 'event.json'), 'utf8');
    expect(line).toBe(
      '{"position":42,"id":"0192f5c8-1f4e-7a3b-8c2d-1234567890ab","topic":"orders","key":"order-17","version":3,"type":"OrderPlaced","schemaVersion":null,"time":"2026-11-22T09:00:00.123Z","data":{"total":12.5},"metadata":{"correlationId":"c-1"}}\n',
    );
    expect(readFileSync(join(cwd, 'env.txt'), 'utf8').trim().split('\n')).toEqual([
      'EVLOG_ATTEMPT=2',
      'EVLOG_GROUP=mailer',
      'EVLOG_ID=0192f5c8-1f4e-7a3b-8c2d-1234567890ab',
      'EVLOG_KEY=order-17',
      'EVLOG_POSITION=42',
      'EVLOG_TIME=2026-11-22T09:00:00.123Z',
      'EVLOG_TOPIC=orders',
      'EVLOG_TYPE=OrderPlaced',
      'EVLOG_VERSION=3',
    ]);
  });

  it('fail with the exit code and the end of their stderr, which is also passed on', async () => {
    const output: string[] = [];
    const deliver = await loadHandler(
      { exec: 'echo "line one" >&2; echo "smtp: connection refused" >&2; exit 3' },
      { env: process.env, cwd: folder(), onOutput: (chunk) => output.push(chunk.toString()) },
    );
    expect(await deliver(RECORD, delivery)).toEqual({
      ok: false,
      reason: 'handler-failed',
      error: 'exited with code 3: line one\nsmtp: connection refused',
    });
    expect(output.join('')).toContain('smtp: connection refused');
  });

  it('keep only the last 4 KB of a long stderr', async () => {
    const deliver = await loadHandler(
      { exec: 'i=0; while [ $i -lt 2000 ]; do echo "noise $i" >&2; i=$((i+1)); done; exit 1' },
      { env: process.env, cwd: folder() },
    );
    const result = await deliver(RECORD, delivery);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.length).toBeLessThanOrEqual(4096 + 30);
    expect(result.error).toContain('noise 1999');
    expect(result.error).not.toContain('noise 10\n');
  });

  it('time out, and everything the command started is killed', async () => {
    const cwd = folder();
    const deliver = await loadHandler(
      { exec: '(sleep 1; touch survived) & echo started >&2; sleep 30' },
      { env: process.env, cwd },
    );
    const started = Date.now();
    const result = await deliver(RECORD, { ...delivery, timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toEqual({ ok: false, reason: 'timeout', error: 'timed out after 200 ms\nstarted' });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(existsSync(join(cwd, 'survived'))).toBe(false);
  });

  it('run in the folder they were given in, whoever runs them later from wherever', async () => {
    const home = folder();
    writeFileSync(join(home, 'handler.sh'), 'pwd > ran-in.txt\n', { mode: 0o755 });
    const spec = settingsFromJson(
      settingsToJson({ handler: { exec: './handler.sh', cwd: home }, maxAttempts: 1, backoffMs: 0, timeoutMs: 1000 }),
      'g',
    ).handler;
    const deliver = await loadHandler(spec, { env: process.env, cwd: folder() });
    expect(await deliver(RECORD, delivery)).toEqual({ ok: true });
    expect(readFileSync(join(home, 'ran-in.txt'), 'utf8').trim()).toBe(home);
  });

  it('succeed when they do not read stdin', async () => {
    const deliver = await loadHandler({ exec: 'true' }, { env: process.env, cwd: folder() });
    expect(await deliver({ ...RECORD, dataJson: JSON.stringify({ big: 'x'.repeat(500_000) }) }, delivery)).toEqual({
      ok: true,
    });
  });
});

describe('module handlers (--handler)', () => {
  function writeModule(source: string): string {
    const path = join(folder(), 'handler.mjs');
    writeFileSync(path, source);
    return path;
  }

  it('get the parsed event and a context; resolving is success', async () => {
    const path = writeModule(
      'export const seen = []; export default async function (event, context) { seen.push([event, context.group, context.attempt]); }',
    );
    const deliver = await loadHandler({ module: path }, { env: process.env, cwd: folder() });
    expect(await deliver(RECORD, delivery)).toEqual({ ok: true });
    const { seen } = (await import(path)) as { seen: unknown[] };
    expect(seen).toEqual([
      [
        {
          position: 42,
          id: RECORD.id,
          topic: 'orders',
          key: 'order-17',
          version: 3,
          type: 'OrderPlaced',
          schemaVersion: null,
          time: RECORD.time,
          data: { total: 12.5 },
          metadata: { correlationId: 'c-1' },
        },
        'mailer',
        2,
      ],
    ]);
  });

  it('fail when they throw, synchronously or not, with the stack as the error', async () => {
    const path = writeModule(
      "export default function (event) { if (event.position === 1) throw new Error('sync boom'); return Promise.reject(new TypeError('async boom')); }",
    );
    const deliver = await loadHandler({ module: path }, { env: process.env, cwd: folder() });
    const sync = await deliver({ ...RECORD, position: 1 }, delivery);
    expect(sync).toMatchObject({ ok: false, reason: 'handler-failed' });
    expect(!sync.ok && sync.error).toMatch(/^Error: sync boom\n\s+at /);
    const failed = await deliver(RECORD, delivery);
    expect(!failed.ok && failed.error).toMatch(/^TypeError: async boom/);
  });

  it('time out, aborting the signal they were given; the next delivery has its own timer', async () => {
    const path = writeModule(
      'export let aborted = 0; export default function (event, context) { if (event.position === 2) return; return new Promise(() => { context.signal.addEventListener("abort", () => { aborted++; }); }); }',
    );
    const deliver = await loadHandler({ module: path }, { env: process.env, cwd: folder() });
    expect(await deliver(RECORD, { ...delivery, timeoutMs: 100 })).toEqual({
      ok: false,
      reason: 'timeout',
      error: 'timed out after 100 ms',
    });
    expect(((await import(path)) as { aborted: number }).aborted).toBe(1);
    expect(await deliver({ ...RECORD, position: 2 }, { ...delivery, timeoutMs: 100 })).toEqual({ ok: true });
    const started = Date.now();
    expect((await deliver(RECORD, { ...delivery, timeoutMs: 150 })).ok).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('must exist and export a function', async () => {
    await expect(loadHandler({ module: join(folder(), 'nope.mjs') }, { env: {}, cwd: '/' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      loadHandler({ module: writeModule('export const x = 1;') }, { env: {}, cwd: '/' }),
    ).rejects.toMatchObject({ code: 'usage', message: expect.stringContaining('no default export function') });
    await expect(
      loadHandler({ module: writeModule('export default (;') }, { env: {}, cwd: '/' }),
    ).rejects.toMatchObject({
      code: 'usage',
    });
  });
});

describe('group settings', () => {
  it('round-trip through the JSON the store keeps, with defaults for what is missing', () => {
    const settings = { handler: { module: '/srv/h.mjs' }, maxAttempts: 2, backoffMs: 10, timeoutMs: 99 };
    expect(settingsFromJson(settingsToJson(settings), 'g')).toEqual(settings);
    expect(settingsFromJson('{"exec":"true"}', 'g')).toEqual({
      handler: { exec: 'true' },
      maxAttempts: 5,
      backoffMs: 200,
      timeoutMs: 30_000,
    });
    expect(() => settingsFromJson('{}', 'g')).toThrow(/unreadable handler/);
    expect(() => settingsFromJson('nope', 'g')).toThrow(/unreadable handler/);
  });

  it('take a module path relative to the folder evlog runs in, and refuse both kinds at once', () => {
    expect(handlerSpecFromOptions({ handler: './h.mjs', cwd: '/srv/app' })).toEqual({ module: '/srv/app/h.mjs' });
    expect(handlerSpecFromOptions({ exec: 'cat', cwd: '/srv/app' })).toEqual({ exec: 'cat', cwd: '/srv/app' });
    expect(handlerSpecFromOptions({ cwd: '/' })).toBeNull();
    expect(() => handlerSpecFromOptions({ exec: 'cat', handler: 'h.mjs', cwd: '/' })).toThrow(
      /either --exec or --handler/,
    );
  });
});
