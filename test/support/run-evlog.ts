/**
 * Runs the real CLI (`node bin/evlog.js`, built into dist/ by `npm run build`) as a child
 * process, the way a user's shell or script does; `it` gives each test its own temp folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, it as base, beforeAll } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EVLOG_BIN = join(REPO_ROOT, 'bin', 'evlog.js');
/** The library entry point, for scripts that use evlog as a package. */
export const EVLOG_LIBRARY = join(REPO_ROOT, 'dist', 'index.js');
export const SHOP_EVENTS = join(REPO_ROOT, 'fixtures', 'shop', 'events.ndjson');

export interface RunResult {
  /** The exit code; null only if the process was killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Text written to stdin (then closed). Without it stdin is closed at once, as with `< /dev/null`. */
  input?: string;
  /** Extra environment variables, on top of a copy of this process's environment without EVLOG_*. */
  env?: Record<string, string | undefined>;
  /** Working folder; default: the process's. Tests pass their temp folder. */
  cwd?: string;
  /** Kill the process after this long (ms) and fail loudly instead of hanging the suite. */
  timeoutMs?: number;
  /** Keep stdin open after `input`, for the test to write more and end it (`child.stdin`). */
  keepStdinOpen?: boolean;
  /** Run as this user and group (root only): lets tests observe file permissions. */
  user?: { uid: number; gid: number };
}

export interface RunningEvlog {
  child: ChildProcess;
  /** Everything printed on stdout so far. */
  stdout(): string;
  /** Resolves once stdout holds at least `lines` complete lines. */
  waitForLines(lines: number, timeoutMs?: number): Promise<void>;
  result: Promise<RunResult>;
}

function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // A developer's EVLOG_DB or EVLOG_MAX_EVENT_BYTES must not leak into the tests.
    if (!name.startsWith('EVLOG_')) env[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts `evlog <args>` and returns at once: for `tail -f` and for concurrent writers. */
export function startEvlog(args: readonly string[], options: RunOptions = {}): RunningEvlog {
  const child = spawn(process.execPath, [EVLOG_BIN, ...args], {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...options.user,
  });
  let stdout = '';
  let stderr = '';
  const lineWaiters: { lines: number; resolve: () => void }[] = [];
  const countLines = () => stdout.split('\n').length - 1;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...lineWaiters]) {
      if (countLines() >= waiter.lines) {
        lineWaiters.splice(lineWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A child that exits before reading stdin makes the write fail with EPIPE: that is fine.
  child.stdin?.on('error', () => {});
  if (options.keepStdinOpen) child.stdin?.write(options.input ?? '');
  else child.stdin?.end(options.input ?? '');

  const timeoutMs = options.timeoutMs ?? 20_000;
  const result = new Promise<RunResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`evlog ${args.join(' ')} did not end within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`),
      );
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  // The caller may await only waitForLines; an unobserved rejection must not crash the run.
  result.catch(() => {});

  return {
    child,
    stdout: () => stdout,
    result,
    waitForLines(lines, waitMs = 10_000) {
      if (countLines() >= lines) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`evlog ${args.join(' ')}: fewer than ${lines} lines after ${waitMs} ms:\n${stdout}`)),
          waitMs,
        );
        lineWaiters.push({
          lines,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        // A process that ends early will never print them: fail now with what it said.
        void result.then(({ code, stderr: errors }) => {
          clearTimeout(timer);
          if (countLines() < lines) {
            reject(
              new Error(`evlog ${args.join(' ')} exited ${code} after ${countLines()} lines:\n${stdout}${errors}`),
            );
          }
        });
      });
    },
  };
}

/** Runs `evlog <args>` to the end. */
export function runEvlog(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return startEvlog(args, options).result;
}

/** Runs `evlog <args>` to the end and fails the test with its stderr unless it exits 0. */
export async function runEvlogOk(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runEvlog(args, options);
  if (result.code !== 0) throw new Error(`evlog ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result;
}

/** Runs `evlog <args>` and closes its stdout after the first chunk, as `evlog … | head -1` does. */
export function runEvlogIntoClosedPipe(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const running = startEvlog(args, options);
  running.child.stdout?.once('data', () => running.child.stdout?.destroy());
  return running.result;
}

/** The NDJSON lines of an output, parsed. */
export function parseLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** One NDJSON line per value: the text a user pipes into `append --batch` or `import`. */
export function toNdjson(values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join('');
}

export interface E2eFixtures {
  /** A fresh temp folder under os.tmpdir(), removed after the test. */
  tmp: string;
  /** A store path inside `tmp` (not created: commands that write create it). */
  db: string;
}

/**
 * `it` with a temp folder per test. A fixture rather than beforeEach/afterEach, so that
 * tests can run concurrently (`describe.concurrent`): spawning node is CPU-bound, and the
 * machine has two cores.
 */
export const it = base.extend<E2eFixtures>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads fixture dependencies from a destructured first argument
  tmp: async ({}, use) => {
    const dir = mkdtempSync(join(tmpdir(), 'evlog-e2e-'));
    try {
      await use(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  db: async ({ tmp }, use) => {
    await use(join(tmp, 'store.db'));
  },
});

/**
 * One store built once for the tests of the calling describe block, which only read it:
 * it spares each test the processes that would build it again. Removed after the block.
 * Returns a function that gives the store path inside the tests.
 */
export function useSharedStore(build: (db: string) => Promise<void>): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'evlog-e2e-shared-'));
    await build(join(dir, 'store.db'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!dir) throw new Error('useSharedStore: the store exists only inside the tests of its block');
    return join(dir, 'store.db');
  };
}

/** Appends events (the `append --batch` line shape) in one process; throws unless it succeeds. */
export async function appendEvents(db: string, events: readonly unknown[]): Promise<void> {
  const result = await runEvlog(['append', '--batch', '--db', db], { input: toNdjson(events) });
  if (result.code !== 0) throw new Error(`append --batch failed (${result.code}): ${result.stderr}`);
}

/** Every event of the store, as `tail --json --from beginning` prints them. */
export async function readEvents<T = StoredEventJson>(db: string, ...filters: string[]): Promise<T[]> {
  const result = await runEvlog(['tail', '--json', '--from', 'beginning', '--db', db, ...filters]);
  if (result.code !== 0) throw new Error(`tail failed (${result.code}): ${result.stderr}`);
  return parseLines<T>(result.stdout);
}

/** The event envelope of DESIGN.md ("Output"). */
export interface StoredEventJson {
  position: number;
  id: string;
  topic: string;
  key: string | null;
  version: number;
  type: string;
  schemaVersion: number | null;
  time: string;
  data: unknown;
  metadata: Record<string, unknown>;
}
