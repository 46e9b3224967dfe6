import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect } from 'vitest';
import {
  EVLOG_BIN,
  it,
  parseLines,
  REPO_ROOT,
  runEvlog,
  runEvlogOk,
  SHOP_EVENTS,
  useSharedStore,
} from './support/run-evlog.js';
import { hasTmux, startTmux, type TmuxSession } from './support/tmux.js';

const ESC = '\u001b';
const SHOP_CONFIG = join(REPO_ROOT, 'fixtures', 'shop', 'evlog.config.mjs');

/** A shell command line that runs evlog with `args` on a terminal, as a person would (CI=true makes Ink draw nothing). */
function evlogCommand(args: string[], env: Record<string, string> = {}): string {
  const quote = (word: string) => `'${word.replace(/'/g, "'\\''")}'`;
  const vars = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`);
  return [
    'env',
    '-u',
    'CI',
    '-u',
    'EVLOG_DB',
    ...vars,
    quote(process.execPath),
    quote(EVLOG_BIN),
    ...args.map(quote),
  ].join(' ');
}

describe('evlog inspect without a terminal', () => {
  it('refuses with exit 2 and a hint', async ({ db }) => {
    await runEvlogOk(['init', '--db', db]);
    const result = await runEvlog(['inspect', '--db', db]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'evlog: evlog inspect needs a terminal: its input and output are not one\n' +
        'hint: run it in a terminal; in scripts, use `evlog dlq list`, `evlog tail`, `evlog projection status` or `evlog schema list`\n',
    );
  });

  it('says so in JSON with --json', async ({ db }) => {
    await runEvlogOk(['init', '--db', db]);
    const result = await runEvlog(['inspect', '--db', db, '--json']);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr.split('\n').at(-2) as string).error.code).toBe('usage');
  });
});

describe('Ink and React are loaded by inspect only', () => {
  /** A module hook that writes the URL of every module Node loads to a file. */
  function recordLoads(tmp: string): { flag: string; loaded: () => string[] } {
    const log = join(tmp, 'loaded.txt');
    const hooks = join(tmp, 'hooks.mjs');
    const register = join(tmp, 'register.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}
`,
    );
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    writeFileSync(log, '');
    return {
      flag: `--import=${pathToFileURL(register).href}`,
      loaded: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    };
  }

  /** The loaded files of dist/ that hold React (its element symbol is in every build of it). */
  function withReact(urls: string[]): string[] {
    return urls
      .filter((url) => url.startsWith('file:') && url.includes('/dist/'))
      .filter((url) => readFileSync(new URL(url), 'utf8').includes('react.transitional.element'));
  }

  it('evlog tail, topics and append never load them', async ({ tmp, db }) => {
    await runEvlogOk(['append', '--batch', SHOP_EVENTS, '--db', db]);
    for (const args of [['tail', '-n', '3'], ['topics'], ['append', 'orders', '{}', '-t', 'Tested']]) {
      const hook = recordLoads(tmp);
      const result = spawnSync(process.execPath, [hook.flag, EVLOG_BIN, ...args, '--db', db], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      const loaded = hook.loaded();
      expect(loaded.some((url) => url.endsWith('/dist/cli.js'))).toBe(true);
      expect(withReact(loaded)).toEqual([]);
    }
  });

  it('the inspector chunk does (the check above can see them)', async ({ tmp }) => {
    const chunk = readdirSync(join(REPO_ROOT, 'dist', 'chunks')).find((name) => /^run-inspector-.*\.js$/.test(name));
    expect(chunk).toBeDefined();
    const hook = recordLoads(tmp);
    const url = pathToFileURL(join(REPO_ROOT, 'dist', 'chunks', chunk as string)).href;
    const result = spawnSync(
      process.execPath,
      [hook.flag, '--input-type=module', '-e', `await import(${JSON.stringify(url)})`],
      {
        encoding: 'utf8',
        env: { ...process.env, CI: 'true' },
      },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(withReact(hook.loaded()).length).toBeGreaterThan(0);
  });
});

describe('evlog inspect on a terminal (tmux)', () => {
  beforeAll(() => {
    if (!hasTmux())
      throw new Error('these tests drive the inspector on a real terminal: install tmux (apt-get install tmux)');
  });
  const shared = useSharedStore(async (db) => {
    await runEvlogOk(['append', '--batch', SHOP_EVENTS, '--db', db]);
    await runEvlogOk(['projection', 'run', '--db', db, '--config', SHOP_CONFIG]);
    for (const type of ['OrderPlaced', 'PaymentFailed']) {
      await runEvlogOk([
        'schema',
        'register',
        type,
        join(REPO_ROOT, 'fixtures', 'shop', 'schemas', `${type}.v1.json`),
        '--db',
        db,
      ]);
    }
    await runEvlogOk([
      'schema',
      'register',
      'OrderPlaced',
      join(REPO_ROOT, 'fixtures', 'shop', 'schemas', 'OrderPlaced.v2.json'),
      '--db',
      db,
    ]);
  });
  let session: TmuxSession | undefined;
  afterEach(() => session?.kill());

  it('shows the events, filters and opens one, and q leaves the terminal as it was', async () => {
    session = startTmux(
      `clear; echo 'before evlog'; ${evlogCommand(['inspect', '--db', shared(), '--config', SHOP_CONFIG])}`,
    );
    let screen = await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    expect(screen).toContain('1 Dead letters');
    expect(screen).not.toContain('before evlog');
    expect(screen).toMatch(/›\s+80\s/);
    await session.keys('/', 'type:OrderCancelled', 'Enter');
    screen = await session.waitFor((s) => s.includes('filter: type:OrderCancelled'), 'the filter');
    const rows = screen.split('\n').filter((line) => /^[ ›]\s+\d+\s/.test(line));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toContain('OrderCancelled');
    await session.keys('Enter');
    screen = await session.waitFor(
      (s) => s.includes('"reason": "payment failed"') || s.includes('· OrderCancelled'),
      'the detail',
    );
    expect(screen).toContain('metadata');
    await session.keys('q');
    screen = await session.waitFor((s) => s.includes('[exited 0]'), 'the exit');
    // The alternate screen is gone: what was there before comes back, and nothing of the inspector is left.
    expect(screen).toContain('before evlog');
    expect(screen).not.toContain('head 80');
  });

  it('leaves the terminal as it was when killed with SIGTERM', async () => {
    session = startTmux(`clear; echo 'before evlog'; ${evlogCommand(['inspect', '--db', shared()])}`);
    await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    const inspector = session
      .processes()
      .find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('inspect'));
    expect(inspector).toBeDefined();
    process.kill(inspector as number, 'SIGTERM');
    const screen = await session.waitFor((s) => s.includes('[exited'), 'the exit');
    expect(screen).toContain('before evlog');
    expect(screen).not.toContain('head 80');
  });

  it('quits with Ctrl-C too, with exit 0', async () => {
    session = startTmux(evlogCommand(['inspect', '--db', shared()]));
    await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    await session.keys('C-c');
    await session.waitFor((s) => s.includes('[exited 0]'), 'the exit');
  });

  it('draws colour on a terminal, and none with NO_COLOR', async () => {
    session = startTmux(evlogCommand(['inspect', '--db', shared()]));
    await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    // Colour codes: SGR 30-37, 90-97 or 38;… (foreground).
    const colour = new RegExp(`${ESC}\\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])[;m]`);
    expect(session.screen(true)).toMatch(colour);
    session.kill();
    session = startTmux(evlogCommand(['inspect', '--db', shared()], { NO_COLOR: '1' }));
    await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    const screen = session.screen(true);
    expect(screen).not.toMatch(colour);
    // The cursor's row is still marked, in inverse and with ›.
    expect(screen).toContain(`${ESC}[7m`);
  });

  it('lays itself out again when the terminal is resized', async () => {
    session = startTmux(evlogCommand(['inspect', '--db', shared()]), { columns: 80, rows: 24 });
    let screen = await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    expect(screen.split('\n').filter((line) => line.includes('q quit'))).toHaveLength(1);
    execResize(session, 120, 30);
    screen = await session.waitFor((s) => s.includes('2026-') || s.includes('20'), 'the wider frame');
    await session.waitFor(
      (s) => s.split('\n').some((line) => line.length > 100 && line.includes('q quit')),
      'a 120-column status bar',
    );
  });

  it('turns off every action that changes the store with --readonly', async () => {
    const before = await runEvlogOk(['projection', 'status', '--json', '--db', shared(), '--config', SHOP_CONFIG]);
    session = startTmux(evlogCommand(['inspect', '--readonly', '--db', shared(), '--config', SHOP_CONFIG]));
    await session.waitFor((s) => s.includes('read-only'), 'the first frame');
    await session.keys('3');
    let screen = await session.waitFor((s) => s.includes('order-totals'), 'the projections');
    expect(screen).not.toContain('R rebuild');
    await session.keys('R');
    screen = await session.waitFor((s) => s.includes('read-only: rebuilding is off'), 'the refusal');
    await session.keys('q');
    await session.waitFor((s) => s.includes('[exited 0]'), 'the exit');
    const after = await runEvlogOk(['projection', 'status', '--json', '--db', shared(), '--config', SHOP_CONFIG]);
    expect(parseLines(after.stdout)).toEqual(parseLines(before.stdout));
  });

  it('rebuilds a projection with R', async ({ db }) => {
    await runEvlogOk(['append', '--batch', SHOP_EVENTS, '--db', db]);
    await runEvlogOk(['projection', 'run', 'stock', '--db', db, '--config', SHOP_CONFIG]);
    session = startTmux(evlogCommand(['inspect', '--db', db, '--config', SHOP_CONFIG]));
    await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    await session.keys('3');
    await session.waitFor((s) => /order-status\s+1\s+idle\s+0\s+80/.test(s), 'order-status, never run');
    await session.keys('R');
    await session.waitFor((s) => s.includes('rebuilt order-status: 51 events folded, checkpoint 80'), 'the rebuild');
    await session.waitFor((s) => /order-status\s+1\s+idle\s+80\s+0/.test(s), 'its new checkpoint');
    const status = parseLines<{ name: string; checkpoint: number }>(
      (await runEvlogOk(['projection', 'status', '--json', '--db', db, '--config', SHOP_CONFIG])).stdout,
    );
    expect(status.find((p) => p.name === 'order-status')?.checkpoint).toBe(80);
  });

  it('follows events appended by another process', async ({ db }) => {
    await runEvlogOk(['append', '--batch', SHOP_EVENTS, '--db', db]);
    session = startTmux(evlogCommand(['inspect', '--db', db]));
    await session.waitFor((s) => s.includes('head 80'), 'the first frame');
    await session.keys('f');
    await session.waitFor((s) => s.includes('following'), 'follow on');
    await runEvlogOk([
      'append',
      'orders',
      '{"orderId":"order-2001"}',
      '-t',
      'OrderPlaced',
      '-k',
      'order-2001',
      '--db',
      db,
    ]);
    const screen = await session.waitFor(
      (s) => /›\s+81\s.*orders\/order-2001@1/.test(s),
      'the new event under the cursor',
    );
    expect(screen).toContain('head 81');
  });
});

describe('evlog inspect on dead letters (tmux)', () => {
  let session: TmuxSession | undefined;
  afterEach(() => session?.kill());

  /**
   * The shop events, and consumer groups "mailer" (orders) and "ledger" (payments) whose
   * module handler failed on every OrderCancelled and PaymentFailed: a file per event position
   * in `broken/` makes it fail.
   */
  async function storeWithDeadLetters(tmp: string, db: string) {
    const broken = join(tmp, 'broken');
    mkdirSync(broken);
    const handler = join(tmp, 'mailer.mjs');
    writeFileSync(
      handler,
      `import { existsSync } from 'node:fs';
import { join } from 'node:path';
export default async function (event) {
  if (existsSync(join(${JSON.stringify(broken)}, String(event.position)))) throw new Error('smtp 550: mailbox of ' + event.data.orderId + ' unavailable (event ' + event.position + ')');
}
`,
    );
    await runEvlogOk(['append', '--batch', SHOP_EVENTS, '--db', db]);
    const failing = (await readEventsOf(db)).filter((e) => e.type === 'OrderCancelled' || e.type === 'PaymentFailed');
    for (const event of failing) writeFileSync(join(broken, String(event.position)), '');
    await runEvlogOk([
      'consume',
      'mailer',
      '--topic',
      'orders',
      '--handler',
      handler,
      '--max-attempts',
      '1',
      '--db',
      db,
    ]);
    await runEvlogOk([
      'consume',
      'ledger',
      '--topic',
      'payments',
      '--handler',
      handler,
      '--max-attempts',
      '1',
      '--db',
      db,
    ]);
    return { broken };
  }

  async function readEventsOf(db: string) {
    const result = await runEvlogOk(['tail', '--json', '--from', 'beginning', '--db', db]);
    return parseLines<{ position: number; type: string; data: unknown }>(result.stdout);
  }

  async function deadLetterList(db: string, ...args: string[]) {
    const result = await runEvlogOk(['dlq', 'list', '--json', '--status', 'parked', '--db', db, ...args]);
    return parseLines<{ id: number; group: string; type: string; status: string; attempts: number; error: string }>(
      result.stdout,
    );
  }

  it('filters, selects and redrives: each entry redriven or failed again, in place, as dlq list then says', async ({
    tmp,
    db,
  }) => {
    const { broken } = await storeWithDeadLetters(tmp, db);
    const parked = await deadLetterList(db);
    const mailer = parked.filter((entry) => entry.group === 'mailer');
    // Three cancellations on orders; three failed payments on payments (order-1004 retried).
    expect(mailer.map((entry) => entry.type)).toEqual(['OrderCancelled', 'OrderCancelled', 'OrderCancelled']);
    expect(parked.filter((entry) => entry.group === 'ledger')).toHaveLength(4);
    // The mail server is back for the first two cancellations' customers, not the third's.
    const [first, second, third] = mailer as [(typeof mailer)[0], (typeof mailer)[0], (typeof mailer)[0]];
    const orderOf = (entry: (typeof mailer)[0]) => /mailbox of (order-\d+)/.exec(entry.error)?.[1] as string;
    const positionOf = (entry: (typeof mailer)[0]) => /\(event (\d+)\)/.exec(entry.error)?.[1] as string;
    rmSync(join(broken, positionOf(first)));
    rmSync(join(broken, positionOf(second)));

    session = startTmux(evlogCommand(['inspect', '--db', db]), { columns: 160, rows: 30, cwd: tmp });
    let screen = await session.waitFor((s) => s.includes('7 parked'), 'the dead letters, first');
    expect(screen.split('\n')[0]).toContain('Dead letters (7)');
    expect(screen).toMatch(new RegExp(`›\\s+${parked[0]?.id}\\s+(mailer|ledger)`));

    await session.keys('/', 'group:mailer', 'Enter');
    screen = await session.waitFor((s) => s.includes('3 parked · filter: group:mailer'), 'the filter');
    expect(screen).toContain(`smtp 550: mailbox of ${orderOf(third)} unavailable (event ${positionOf(third)})`);
    await session.keys('Space', 'Space', 'Space');
    await session.waitFor((s) => s.includes('3 selected'), 'three selected');
    await session.keys('r');
    await session.waitFor((s) => s.includes('redrive 3 entries? y/n'), 'the question');
    await session.keys('y');
    screen = await session.waitFor((s) => s.includes('redrive: 2 redriven, 1 failed again'), 'the outcomes');
    const row = (id: number) => screen.split('\n').find((line) => new RegExp(`^[ ›][ ●]\\s+${id}\\s`).test(line)) ?? '';
    expect(row(first.id)).toContain('✓ redriven');
    expect(row(second.id)).toContain('✓ redriven');
    expect(row(third.id)).toContain(`✗ failed again: Error: smtp 550: mailbox of ${orderOf(third)} unavailable`);
    expect(row(third.id)).toMatch(/\s2\s/);
    // The count follows the store's commit.
    await session.waitFor((s) => s.includes('1 parked · filter: group:mailer'), 'the new count');
    await session.keys('q');
    await session.waitFor((s) => s.includes('[exited 0]'), 'the exit');

    const after = await deadLetterList(db, '--group', 'mailer');
    expect(after.map((entry) => entry.id)).toEqual([third.id]);
    expect(after[0]?.attempts).toBe(2);
    const redriven = parseLines<{ id: number }>(
      (await runEvlogOk(['dlq', 'list', '--json', '--status', 'redriven', '--db', db])).stdout,
    );
    expect(redriven.map((entry) => entry.id)).toEqual([first.id, second.id]);
  });

  it('opens an entry: its event, error and redrive history; discards it with d', async ({ tmp, db }) => {
    await storeWithDeadLetters(tmp, db);
    const [entry] = await deadLetterList(db, '--group', 'ledger');
    session = startTmux(evlogCommand(['inspect', '--db', db]), { columns: 120, rows: 40, cwd: tmp });
    await session.waitFor((s) => s.includes('7 parked'), 'the dead letters');
    await session.keys('/', 'group:ledger', 'Enter');
    await session.waitFor((s) => s.includes('4 parked · filter: group:ledger'), 'the filter');
    await session.keys('Enter');
    let screen = await session.waitFor((s) => s.includes(`dead letter ${entry?.id} · ledger`), 'the detail');
    expect(screen).toContain('reason        handler-failed, after 1 attempt');
    expect(screen).toContain('redrive history');
    expect(screen).toContain('"type": "PaymentFailed"');
    expect(screen).toContain('"topic": "payments"');
    await session.keys('d');
    screen = await session.waitFor((s) => s.includes('✓ discarded'), 'the discard');
    await session.waitFor((s) => s.includes('discarded'), 'its history');
    await session.keys('Escape', 'q');
    await session.waitFor((s) => s.includes('[exited 0]'), 'the exit');
    const discarded = parseLines<{ id: number }>(
      (await runEvlogOk(['dlq', 'list', '--json', '--status', 'discarded', '--db', db])).stdout,
    );
    expect(discarded.map((e) => e.id)).toEqual([entry?.id]);
  });

  it('changes nothing with --readonly', async ({ tmp, db }) => {
    await storeWithDeadLetters(tmp, db);
    session = startTmux(evlogCommand(['inspect', '--readonly', '--db', db]), { columns: 120, rows: 30, cwd: tmp });
    const screen = await session.waitFor((s) => s.includes('7 parked'), 'the dead letters');
    expect(screen).not.toContain('r redrive');
    await session.keys('a', 'r');
    await session.waitFor((s) => s.includes('read-only: redrive is off'), 'the refusal');
    await session.keys('d');
    await session.waitFor((s) => s.includes('read-only: discard is off'), 'the refusal');
    await session.keys('q');
    await session.waitFor((s) => s.includes('[exited 0]'), 'the exit');
    expect(await deadLetterList(db)).toHaveLength(7);
  });
});

function execResize(session: TmuxSession, columns: number, rows: number): void {
  spawnSync('tmux', [
    '-L',
    'evlog-tests',
    'resize-window',
    '-t',
    session.name,
    '-x',
    String(columns),
    '-y',
    String(rows),
  ]);
}
