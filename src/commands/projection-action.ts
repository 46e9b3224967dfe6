import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import { type Progress, startProgress } from '../output/progress.js';
import { printTable } from '../output/table.js';
import { canonicalJson } from '../projections/canonical-json.js';
import type { ProjectionDefinition } from '../projections/define-projection.js';
import { projectionOutput } from '../projections/fold.js';
import { describeProjection, type ProjectionStatusView } from '../projections/projection-status.js';
import { createProjectionRunner, type RunReport, rebuildProjection } from '../projections/run-projection.js';
import type { EventStore } from '../store/index.js';
import { waitForCommit } from '../store/wait-for-commit.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, configFor, wantsJson, withStore } from './context.js';
import { parseOptions } from './parse-options.js';
import { projectionDefinition, projectionDefinitions } from './projection-definitions.js';
import { recordUpcasterFor } from './upcasting.js';

const batchSize = z.optional(
  z.coerce
    .number({ error: 'must be a whole number' })
    .check(z.int('must be a whole number'), z.positive('must be 1 or more')),
);

/** Every projection of the config, and those the store still has a read model for. */
async function collectStatus(
  context: CommandContext,
  store: EventStore,
  only?: string,
): Promise<ProjectionStatusView[]> {
  const definitions = await projectionDefinitions(context);
  const records = await store.listProjections();
  const head = (await store.head()).position;
  const names = [...new Set([...definitions.map((d) => d.name), ...records.map((r) => r.name)])].sort();
  if (only !== undefined && !names.includes(only)) await projectionDefinition(context, only);
  const views: ProjectionStatusView[] = [];
  for (const name of names.filter((n) => only === undefined || n === only)) {
    // One indexed count per projection (by group and status).
    const parked = await store.countDeadLetters({ group: name, source: 'projection', status: 'parked' });
    views.push(
      describeProjection(
        name,
        definitions.find((d) => d.name === name),
        records.find((r) => r.name === name) ?? null,
        head,
        context.io.now(),
        parked,
      ),
    );
  }
  return views;
}

async function printStatus(context: CommandContext, views: ProjectionStatusView[], detailed: boolean): Promise<void> {
  const { stdout } = context.io;
  if (wantsJson(context)) {
    for (const view of views) stdout.write(`${JSON.stringify(view)}\n`);
    return;
  }
  if (views.length === 0) {
    if (!context.globals.quiet) {
      context.io.stderr.write('no projections: declare them in evlog.config.mjs under `projections: [ … ]`\n');
    }
    return;
  }
  if (detailed && views.length === 1) {
    const view = views[0] as ProjectionStatusView;
    const lines = [
      ['name', view.name],
      [
        'version',
        `${view.version ?? '(not in the config)'}${view.storedVersion !== null && view.storedVersion !== view.version ? ` (read model: version ${view.storedVersion})` : ''}`,
      ],
      ['status', view.status],
      ['checkpoint', String(view.checkpoint)],
      ['head', String(view.head)],
      ['lag', String(view.lag)],
      ['keys', String(view.keys)],
      ['parked', view.parked ? `${view.parked} (evlog dlq list --group ${view.name})` : '0'],
      ...(view.rebuild ? [['rebuild', `at position ${view.rebuild.checkpoint}`]] : []),
      ['last error', view.lastError ? `at position ${view.lastError.position}: ${view.lastError.message}` : '(none)'],
    ];
    for (const [label, value] of lines) stdout.write(`${`${label}:`.padEnd(12)}${value}\n`);
    return;
  }
  await printTable(
    stdout,
    ['NAME', 'VERSION', 'STATUS', 'CHECKPOINT', 'LAG', 'KEYS', 'PARKED', 'LAST ERROR'],
    views.map((view) => [
      view.name,
      view.version ?? '-',
      view.status,
      view.checkpoint,
      view.lag,
      view.keys,
      view.parked,
      view.lastError ? `at ${view.lastError.position}: ${truncate(view.lastError.message, 60)}` : '',
    ]),
  );
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

export const list: CommandRun = async (context) => {
  const views = await withStore(context, { create: false }, (store) => collectStatus(context, store));
  await printStatus(context, views, false);
};

export const status: CommandRun = async (context, args) => {
  const name = args[0] as string | undefined;
  const views = await withStore(context, { create: false }, (store) => collectStatus(context, store, name));
  await printStatus(context, views, name !== undefined);
};

function printReport(context: CommandContext, report: RunReport, seconds?: number): void {
  if (wantsJson(context)) {
    context.io.stdout.write(
      `${JSON.stringify({ ...report, ...(seconds === undefined ? {} : { seconds: Number(seconds.toFixed(3)) }) })}\n`,
    );
  } else if (!context.globals.quiet) {
    // A rate over a blink of work says nothing.
    const rate =
      seconds !== undefined && seconds >= 0.5
        ? `, ${Math.round(report.events / seconds).toLocaleString('en-US')} events/s`
        : '';
    context.io.stdout.write(
      `${report.name}: ${report.events.toLocaleString('en-US')} events applied, checkpoint ${report.to}${
        report.from !== report.to ? ` (was ${report.from})` : ''
      }${seconds === undefined ? '' : ` in ${seconds.toFixed(2)} s${rate}`}\n`,
    );
  }
}

export const run: CommandRun = async (context, args, raw) => {
  const options = parseOptions(z.object({ follow: z.optional(z.boolean()), batchSize }), raw);
  // `run a a` means `run a`: two runners of one projection would race for its checkpoint.
  const names = [...new Set(args[0] as string[])];
  const definitions =
    names.length > 0
      ? await Promise.all(names.map((name) => projectionDefinition(context, name)))
      : await projectionDefinitions(context);
  if (definitions.length === 0) {
    const loaded = await configFor(context);
    throw new EvlogError(
      'not_found',
      `no projections to run: ${loaded ? `${loaded.path} declares none` : 'there is no config file'}`,
      {
        hint: 'declare them in evlog.config.mjs under `projections: [ … ]`, or name one with --config',
      },
    );
  }
  await withStore(context, { create: false }, async (store) => {
    const upcast = await recordUpcasterFor(context, store, false);
    const runners: {
      definition: ProjectionDefinition;
      runner: Awaited<ReturnType<typeof createProjectionRunner>>;
      /** The checkpoint last printed: a wake-up that moved nothing prints nothing. */
      printedTo?: number;
    }[] = [];
    // The first catch-up of a long way behind shows a progress bar (stderr, TTY only).
    let progress: Progress | undefined;
    const makeRunner = (definition: ProjectionDefinition) =>
      createProjectionRunner(store, definition, {
        upcast,
        batchSize: options.batchSize,
        onProgress: ({ position }) => progress?.update(position),
      });
    let firstFailure: unknown;
    for (const definition of definitions) {
      try {
        runners.push({ definition, runner: await makeRunner(definition) });
      } catch (error) {
        // A stale projection is refused, but the others still run; the command fails at the end.
        if (options.follow) throw error;
        firstFailure ??= error;
      }
    }
    for (const entry of runners) {
      const { definition, runner } = entry;
      const head = (await store.head()).position;
      progress = await startProgress(context.io.stderr, {
        total: head,
        label: `running ${definition.name}`,
        unit: 'events',
        quiet: context.globals.quiet,
        minimum: 100_000,
      });
      const before = Date.now();
      let report: RunReport | undefined;
      try {
        report = await runner.catchUp({ following: options.follow });
      } catch (error) {
        // One failing projection does not stop the others; the command still fails.
        firstFailure ??= error;
        if (options.follow) throw error;
      } finally {
        progress.stop();
        progress = undefined;
      }
      if (report) {
        printReport(context, report, (Date.now() - before) / 1000);
        entry.printedTo = report.to;
      }
    }
    if (firstFailure) throw firstFailure;
    if (!options.follow) return;
    const commits = waitForCommit(store);
    try {
      for (;;) {
        await commits.next(10_000);
        for (const entry of runners) {
          const { definition } = entry;
          // Every 10 s at least: catching up also reports in, so `status` shows it running.
          let report: RunReport;
          try {
            report = await entry.runner.catchUp({ following: true });
          } catch (error) {
            // A rebuild swapped in a new read model: follow that one. (A version change makes
            // the new runner refuse, as stale, and ends the command.)
            if (!(error instanceof EvlogError) || error.code !== 'conflict') throw error;
            entry.runner = await makeRunner(definition);
            report = await entry.runner.catchUp({ following: true });
          }
          // The report counts every event since the runner started: print it only when the
          // checkpoint moved (commits of other work, such as a rebuild, wake the loop too).
          if (report.events > 0 && report.to !== entry.printedTo) {
            printReport(context, report);
            entry.printedTo = report.to;
          }
        }
      }
    } finally {
      commits.stop();
      for (const { runner } of runners) await runner.stop();
    }
  });
};

export const rebuild: CommandRun = async (context, args, raw) => {
  const options = parseOptions(z.object({ batchSize }), raw);
  const definition = await projectionDefinition(context, args[0] as string);
  await withStore(context, { create: false }, async (store) => {
    const upcast = await recordUpcasterFor(context, store, false);
    const head = (await store.head()).position;
    const progress = await startProgress(context.io.stderr, {
      total: head,
      label: `rebuilding ${definition.name}`,
      unit: 'events',
      quiet: context.globals.quiet,
    });
    const started = Date.now();
    let report: RunReport;
    try {
      report = await rebuildProjection(store, definition, {
        upcast,
        batchSize: options.batchSize,
        onProgress: ({ position }) => progress.update(position),
      });
    } finally {
      progress.stop();
    }
    printReport(context, report, (Date.now() - started) / 1000);
  });
};

export const get: CommandRun = async (context, args) => {
  const name = args[0] as string;
  const key = args[1] as string | undefined;
  const definition: ProjectionDefinition = await projectionDefinition(context, name);
  if (key !== undefined && !definition.key) {
    throw new EvlogError('usage', `projection "${name}" has no key function: it has one state, read it without a key`);
  }
  const state = await withStore(context, { create: false }, async (store) => {
    const record = await store.readProjection(name);
    if (!record) {
      throw new EvlogError('not_found', `projection "${name}" has no read model yet`, {
        hint: `build it: evlog projection run ${name}`,
      });
    }
    if (record.version !== definition.version && !context.globals.quiet) {
      context.io.stderr.write(
        `warning: the read model of "${name}" is stale (built by version ${record.version}, the definition is version ${definition.version}); rebuild it\n`,
      );
    }
    if (key === undefined) {
      const rows = await store.readProjectionStates(name);
      return projectionOutput(
        definition,
        rows.map(([k, json]): [string, unknown] => [k, JSON.parse(json)]),
      );
    }
    const [row] = await store.readProjectionStates(name, { keys: [key] });
    if (!row) {
      throw new EvlogError('not_found', `projection "${name}" has no state for key "${key}"`, {
        hint: `list its keys: evlog projection get ${name} --json`,
      });
    }
    return JSON.parse(row[1]) as unknown;
  });
  context.io.stdout.write(`${canonicalJson(state, wantsJson(context) ? undefined : 2)}\n`);
};
