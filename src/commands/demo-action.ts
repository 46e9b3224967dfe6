import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EvlogError } from '../errors.js';
import { createColors } from '../output/color.js';
import { openStore } from '../store/index.js';
import type { CommandRun } from './command-action.js';
import type { CommandContext, CommandIo } from './context.js';

import { DEMO_STORE } from './demo.js';

/** One step of the tour: what it shows, and the evlog command that shows it. */
interface DemoStep {
  say: string;
  argv: string[];
}

function tour(fixture: string): DemoStep[] {
  return [
    {
      say: 'Append the sample shop events (orders, payments, inventory, shipping) in one transaction:',
      argv: ['append', '--batch', fixture],
    },
    { say: 'What is in the store:', argv: ['topics'] },
    { say: 'The last five events of the orders topic:', argv: ['tail', 'orders', '-n', '5'] },
    {
      say: 'One order from the start, across topics (every event keyed by it):',
      argv: ['tail', '--key', 'order-1003', '--from', 'beginning'],
    },
    {
      say: 'Append a new order, expecting its stream not to exist yet:',
      argv: [
        'append',
        'orders',
        '{"orderId":"order-2001","total":42.5,"currency":"EUR"}',
        '-t',
        'OrderPlaced',
        '-k',
        'order-2001',
        '--expect',
        'none',
        '--correlation-id',
        'demo-flow-1',
      ],
    },
    {
      say: 'The same with a stale expectation is refused (exit code 4), so concurrent writers cannot both win:',
      argv: [
        'append',
        'orders',
        '{"orderId":"order-2001","reason":"duplicate click"}',
        '-t',
        'OrderCancelled',
        '-k',
        'order-2001',
        '--expect',
        'none',
      ],
    },
    {
      say: 'Filter on data and print with a template:',
      argv: [
        'tail',
        'orders',
        '--type',
        'OrderPlaced',
        '--from',
        'beginning',
        '--where',
        'currency=EUR',
        '-o',
        '{position}\\t{key}\\t{data.total} {data.currency}',
        '--limit',
        '5',
      ],
    },
    { say: 'Machine output for scripts (one JSON object per line):', argv: ['tail', 'payments', '-n', '2', '--json'] },
    {
      say: 'Would this JSON Schema for OrderPlaced be accepted? evlog also checks it against the stored orders:',
      argv: ['schema', 'check', 'OrderPlaced', join(dirname(fixture), 'schemas', 'OrderPlaced.v1.json')],
    },
    {
      say: 'Register a schema for InventoryReserved; from now on each such event is validated on append:',
      argv: ['schema', 'register', 'InventoryReserved', join(dirname(fixture), 'schemas', 'InventoryReserved.v1.json')],
    },
    {
      say: 'Data that breaks its schema is refused (exit code 3), with one line per violation:',
      argv: ['append', 'inventory', '{"orderId":"order-2001","sku":"mug","qty":0}', '-t', 'InventoryReserved'],
    },
    {
      say: 'Catch two projections of the shop config up: read models built in the store by pure reducers:',
      argv: ['projection', 'run', 'stock', 'order-status', '--config', join(dirname(fixture), 'evlog.config.mjs')],
    },
    {
      say: 'Replay to a point in time: stock per product as of position 20, computed in memory:',
      argv: [
        'replay',
        '--projection',
        'stock',
        '--until',
        '20',
        '--config',
        join(dirname(fixture), 'evlog.config.mjs'),
      ],
    },
    {
      say: 'A consumer group delivers the orders topic to a handler, in order; cancellations fail twice and are dead-lettered:',
      argv: [
        'consume',
        'notify',
        '--topic',
        'orders',
        '--handler',
        join(dirname(fixture), 'handlers', 'notify-customer.mjs'),
        '--max-attempts',
        '2',
        '--backoff',
        '10ms',
      ],
    },
    { say: 'The dead letters, kept with their reason and error:', argv: ['dlq', 'list'] },
    {
      say: 'The mail server is back: redrive them (each is delivered once more, through the same handler):',
      argv: ['dlq', 'redrive', '--all', '--yes'],
    },
    { say: 'Totals:', argv: ['stats'] },
  ];
}

/** The demo shows error lines where the user reads, in order with the rest. */
function demoIo(context: CommandContext): CommandIo {
  return { ...context.io, stderr: context.io.stdout };
}

function resetDemoStore(path: string): void {
  if (existsSync(path)) {
    // Only ever replace an evlog store: opening refuses any other file.
    openStore(path, { create: false }).close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  }
}

/** fixtures/ sits at the package root, above dist/ (built) or src/commands/ (tests). */
function findFixture(name: string): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    const candidate = join(folder, 'fixtures', name);
    if (existsSync(candidate)) return candidate;
    folder = dirname(folder);
  }
  throw new EvlogError('not_found', `the demo fixture fixtures/${name} is missing from the evlog package`);
}

function quote(arg: string): string {
  return /^[\w./=:@-]+$/.test(arg) ? arg : `'${arg}'`;
}

export const run: CommandRun = async (context, _args, _raw) => {
  const { io } = context;
  const path = context.globals.db ?? DEMO_STORE;
  const fixture = findFixture('shop/events.ndjson');
  resetDemoStore(path);
  const colors = createColors({ isTTY: io.stdout.isTTY, env: io.env, noColorFlag: context.globals.color === false });
  // The tour runs the real commands in this process, through the same entry point as the shell.
  const { main } = await import('../cli.js');
  for (const step of tour(fixture)) {
    io.stdout.write(`\n${colors.bold(step.say)}\n${colors.green(`$ evlog ${step.argv.map(quote).join(' ')}`)}\n`);
    await main(
      [...step.argv, '--db', path, ...(context.globals.color === false ? ['--no-color'] : [])],
      demoIo(context),
    );
  }
  io.stdout.write(
    `\n${colors.bold('Your turn:')} the store is ${path}. Try\n  evlog tail -f --db ${path}\n` +
      `and in another terminal\n  evlog append orders '{"total":1}' -t OrderPlaced -k order-9 --db ${path}\n`,
  );
};
