import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect } from 'vitest';
import { appendEvents, EVLOG_BIN, it, readEvents, runEvlog, SHOP_EVENTS, useSharedStore } from './support/run-evlog.js';

const ORDER = { topic: 'orders', key: 'order-1', type: 'OrderPlaced', data: { total: 1 } };

/** Every command, with arguments that would make it run (against `--db`, added by the caller). */
const COMMANDS: { name: string; args: string[]; input?: string }[] = [
  { name: 'init', args: ['init'] },
  { name: 'append', args: ['append', 'orders', '{"total":1}', '-t', 'OrderPlaced'] },
  { name: 'append --batch', args: ['append', '--batch'], input: `${JSON.stringify(ORDER)}\n` },
  { name: 'import', args: ['import', '-'], input: `${JSON.stringify(ORDER)}\n` },
  { name: 'tail', args: ['tail'] },
  { name: 'topics', args: ['topics'] },
  { name: 'streams', args: ['streams', 'orders'] },
  { name: 'stats', args: ['stats'] },
  { name: 'export', args: ['export'] },
];
const READ_COMMANDS = COMMANDS.filter((c) => ['tail', 'topics', 'streams', 'stats', 'export'].includes(c.name));

const isRoot = process.getuid?.() === 0;

describe.concurrent('malformed JSON input exits 3 and appends nothing', () => {
  it('append with the data as an argument', async ({ db }) => {
    await appendEvents(db, [ORDER]);
    const result = await runEvlog(['append', 'orders', '{"total": 1,', '-t', 'OrderPlaced', '--db', db]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^evlog: .*JSON/);
    expect(await readEvents(db)).toHaveLength(1);
  });

  it('append with the data piped on stdin', async ({ db }) => {
    await appendEvents(db, [ORDER]);
    const result = await runEvlog(['append', 'orders', '-t', 'OrderPlaced', '--db', db], { input: "{total: 'one'}" });
    expect(result.code).toBe(3);
    expect(await readEvents(db)).toHaveLength(1);
  });

  it('append with nothing piped on stdin is refused too', async ({ db }) => {
    await appendEvents(db, [ORDER]);
    const result = await runEvlog(['append', 'orders', '-t', 'OrderPlaced', '--db', db], { input: '' });
    // No data at all: a missing argument (2) or empty input (3); either way refused.
    expect([2, 3]).toContain(result.code);
    expect(await readEvents(db)).toHaveLength(1);
  });

  it('append --batch from a file', async ({ db, tmp }) => {
    await appendEvents(db, [ORDER]);
    const file = join(tmp, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(ORDER)}\n{"topic":"orders",\n`);
    const result = await runEvlog(['append', '--batch', file, '--db', db]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/line 2\b/);
    expect(await readEvents(db)).toHaveLength(1);
  });

  it('import from stdin', async ({ db }) => {
    await appendEvents(db, [ORDER]);
    const result = await runEvlog(['import', '-', '--db', db], { input: `${JSON.stringify(ORDER)}\nnot json\n` });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/line 2\b/);
    expect(await readEvents(db)).toHaveLength(1);
  });
});

describe.concurrent('usage errors exit 2', () => {
  // Only read: a usage error is reported before anything is written.
  const store = useSharedStore((db) => appendEvents(db, [ORDER]));

  it.for(COMMANDS)('$name refuses an unknown flag', async ({ args, input }, { db }) => {
    const result = await runEvlog([...args, '--frobnicate', '--db', db], { input });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--frobnicate');
    expect(existsSync(db)).toBe(false);
  });

  it('an unknown command is refused, with a suggestion for a near miss', async ({ tmp }) => {
    const result = await runEvlog(['tial'], { cwd: tmp });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tial');
    expect(result.stderr).toContain('tail');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it.for([
    { what: 'append without a topic', args: ['append'] },
    { what: 'append without --type', args: ['append', 'orders', '{"total":1}'] },
    { what: 'append with --type but no value', args: ['append', 'orders', '{"total":1}', '-t'] },
    { what: 'import without a file', args: ['import'] },
    { what: 'streams without a topic', args: ['streams'] },
    { what: 'tail --stream without a value', args: ['tail', '--stream'] },
    { what: 'tail -n with a word', args: ['tail', '-n', 'ten'] },
    { what: 'tail --from with nonsense', args: ['tail', '--from', 'yesterday-ish'] },
    { what: 'tail --until with a duration', args: ['tail', '--until', '5m'] },
    { what: 'tail --idle without --follow', args: ['tail', '--idle', '1s'] },
    { what: 'tail --where without a value', args: ['tail', '--where', 'customer.id'] },
    { what: 'export with an unknown format', args: ['export', '-o', 'xml'] },
  ])('$what', async ({ args }) => {
    const result = await runEvlog([...args, '--db', store()]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^evlog: /);
  });
});

describe.concurrent('read commands on a missing store', () => {
  it.for(READ_COMMANDS)('$name exits 5 with a hint and creates no file', async ({ args }, { tmp }) => {
    const db = join(tmp, 'missing.db');
    const result = await runEvlog([...args, '--db', db]);
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('missing.db');
    expect(result.stderr).toContain('evlog init');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('tail without --db exits 5 and creates no ./evlog.db', async ({ tmp }) => {
    const result = await runEvlog(['tail'], { cwd: tmp });
    expect(result.code).toBe(5);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('tail uses EVLOG_DB when --db is not given', async ({ tmp }) => {
    const db = join(tmp, 'from-env.db');
    await appendEvents(db, [ORDER]);
    const result = await runEvlog(['tail', '-o', '{type}'], { cwd: tmp, env: { EVLOG_DB: db } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('OrderPlaced\n');
  });
});

describe.concurrent('a file that is not an evlog store is refused and left byte-identical', () => {
  const foreignFiles = [
    {
      kind: 'a text file',
      create: (path: string) => writeFileSync(path, 'name,total\nana,12.5\n'),
    },
    {
      kind: 'an SQLite database of another application',
      create: (path: string) => {
        const db = new Database(path);
        db.exec("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ana'), ('jonas');");
        db.close();
      },
    },
  ];
  // The three ways a store is opened: read (create: false), write (create: true), and init.
  const commands = COMMANDS.filter((c) => ['init', 'append', 'import', 'tail', 'stats'].includes(c.name));
  const cases = foreignFiles.flatMap((file) => commands.map((command) => ({ ...command, ...file })));

  it.for(cases)('$name on $kind: exit 5', async ({ args, input, create }, { tmp }) => {
    const path = join(tmp, 'data.db');
    create(path);
    const before = readFileSync(path);
    const result = await runEvlog([...args, '--db', path], { input });
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(tmp)).toEqual(['data.db']);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('data.db');
    expect(result.stderr).toMatch(/not an? (evlog store|SQLite)/);
    expect(result.code).toBe(5);
  });

  it('demo does not delete a foreign file given as its store', async ({ tmp }) => {
    const path = join(tmp, 'data.db');
    writeFileSync(path, 'precious notes\n');
    const result = await runEvlog(['demo', '--db', path]);
    expect(readFileSync(path, 'utf8')).toBe('precious notes\n');
    expect(result.code).toBe(5);
  });
});

describe.concurrent('a store written by a newer evlog', () => {
  // A real store whose schema version says a later evlog wrote it; each test works on a copy.
  const newer = useSharedStore(async (db) => {
    await appendEvents(db, [ORDER]);
    const sqlite = new Database(db);
    sqlite.pragma('user_version = 99');
    sqlite.close();
  });

  it.for(COMMANDS)('$name refuses it, saying it is newer, and leaves it as it was', async ({ args, input }, { db }) => {
    copyFileSync(newer(), db);
    const before = readFileSync(db);
    const result = await runEvlog([...args, '--db', db], { input });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/newer/i);
    expect(readFileSync(db).equals(before)).toBe(true);
  });
});

describe.concurrent('a read-only store file', () => {
  // chmod does not stop root from writing: as root, evlog runs as the unprivileged user
  // nobody, in a folder that user may write (SQLite creates -wal and -shm files there).
  const user = isRoot ? { uid: 65534, gid: 65534 } : undefined;
  // ...which needs node and this checkout to be reachable for that user.
  const canRun =
    !user ||
    spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(EVLOG_BIN)})`], user).status === 0;

  function readOnlyStore(tmp: string, db: string, folderWritable: boolean): void {
    chmodSync(db, 0o444);
    chmodSync(tmp, folderWritable ? 0o777 : 0o555);
  }

  it.skipIf(!canRun)('refuses appends and leaves the store as it was', async ({ tmp, db }) => {
    await appendEvents(db, [ORDER]);
    readOnlyStore(tmp, db, true);
    const before = readFileSync(db);
    const result = await runEvlog(['append', 'orders', '{"total":2}', '-t', 'OrderPlaced', '--db', db], { user });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the store is read-only/);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it.skipIf(!canRun)('can still be read', async ({ tmp, db }) => {
    await appendEvents(db, [ORDER]);
    readOnlyStore(tmp, db, true);
    const tail = await runEvlog(['tail', '-o', '{position} {type}', '--db', db], { user });
    expect(tail.stderr).toBe('');
    expect(tail.stdout).toBe('1 OrderPlaced\n');
    const stats = await runEvlog(['stats', '--json', '--db', db], { user });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ events: 1 });
  });

  it.skipIf(!canRun)('in a read-only folder, says why it cannot be read', async ({ tmp, db }) => {
    await appendEvents(db, [ORDER]);
    readOnlyStore(tmp, db, false);
    try {
      const tail = await runEvlog(['tail', '--db', db], { user });
      expect(tail.code).toBe(1);
      expect(tail.stderr).toContain('the file and its folder are read-only');
    } finally {
      chmodSync(tmp, 0o700);
    }
  });
});

describe.concurrent('--json errors', () => {
  // Only read: every command here fails before it writes.
  const store = useSharedStore((db) => appendEvents(db, [ORDER]));

  it.for([
    { what: 'an unknown flag', code: 'usage', exit: 2, args: ['tail', '--frobnicate'] },
    { what: 'an unknown command', code: 'usage', exit: 2, args: ['frobnicate'] },
    { what: 'malformed data', code: 'invalid', exit: 3, args: ['append', 'orders', '{oops', '-t', 'OrderPlaced'] },
    {
      what: 'a failed --expect',
      code: 'conflict',
      exit: 4,
      args: ['append', 'orders', '{}', '-t', 'OrderPlaced', '-k', 'order-1', '--expect', 'none'],
    },
    { what: 'an unknown topic', code: 'not_found', exit: 5, args: ['streams', 'nope'] },
    { what: 'a missing store', code: 'not_found', exit: 5, args: ['tail', '--db', 'missing.db'] },
  ])('$what: code $code, exit $exit, a JSON error on stderr and nothing on stdout', async ({ code, exit, args }, {
    tmp,
  }) => {
    const db = args.includes('--db') ? [] : ['--db', store()];
    const result = await runEvlog([...args, ...db, '--json'], { cwd: tmp });
    expect(result.code).toBe(exit);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^evlog: /);
    const jsonLines = lines.filter((line) => line.startsWith('{'));
    expect(jsonLines).toHaveLength(1);
    const error = JSON.parse(jsonLines[0] ?? '');
    expect(error).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
    expect(error.error.message).not.toBe('');
  });

  it('without --json an error is plain text only', async ({ tmp }) => {
    const result = await runEvlog(['tail', '--db', 'missing.db'], { cwd: tmp });
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^evlog: no store/);
    expect(result.stderr).not.toContain('{"error"');
  });
});

describe.concurrent('no raw driver errors', () => {
  it('a folder given as the store is a usage error, not a stack trace', async ({ tmp }) => {
    const result = await runEvlog(['append', 'orders', '{}', '-t', 'OrderPlaced', '--db', tmp]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^evlog: /);
    expect(result.stderr).not.toMatch(/SQLITE_|at .*\.js:\d+/);
  });

  it('a store in a folder that does not exist is a clear error', async ({ tmp }) => {
    const result = await runEvlog(['append', '--batch', SHOP_EVENTS, '--db', join(tmp, 'no', 'such', 'store.db')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^evlog: /);
    expect(result.stderr).not.toMatch(/SQLITE_|at .*\.js:\d+/);
  });
});
