import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import { parseJson } from '../input/parse-json.js';
import { parseUntil } from '../input/parse-range.js';
import { createColors } from '../output/color.js';
import { createEventFormatter, type EventFormatter } from '../output/format-event.js';
import { createLineWriter } from '../output/line-writer.js';
import { startProgress } from '../output/progress.js';
import { canonicalJson } from '../projections/canonical-json.js';
import { diffStates, formatDifference } from '../projections/diff-states.js';
import { replayProjection } from '../projections/replay-projection.js';
import { type EventFilter, type EventStore, parseStreamName, readAllEvents } from '../store/index.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, wantsJson, withStore } from './context.js';
import { parseOptions } from './parse-options.js';
import { projectionDefinition } from './projection-definitions.js';
import { checkSourcesExist } from './tail-action.js';
import { recordUpcasterFor } from './upcasting.js';

const optionsSchema = z.object({
  topic: z.optional(z.string().check(z.minLength(1, 'cannot be empty'))),
  stream: z.optional(z.string()),
  until: z.optional(z.string()),
  projection: z.optional(z.string().check(z.minLength(1, 'cannot be empty'))),
  expect: z.optional(z.string()),
  snapshots: z.optional(z.boolean()),
  format: z.optional(z.string()),
  raw: z.optional(z.boolean()),
});

type ReplayOptions = z.infer<typeof optionsSchema>;

/** The position the replay stops at: --until as a position or a time, never past the head. */
async function targetPosition(store: EventStore, until: string | undefined): Promise<number> {
  const head = (await store.head()).position;
  if (until === undefined) return head;
  const bound = parseUntil(until);
  const position = bound.kind === 'position' ? bound.position : await store.findPositionAtOrBefore(bound.time);
  return Math.min(position, head);
}

function readExpected(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Exit 1 means "differs" to a CI script: a file that cannot be read is another matter.
    throw new EvlogError(code === 'ENOENT' ? 'not_found' : 'usage', `--expect: cannot read ${file}: ${code ?? error}`);
  }
  return parseJson(text, `--expect file ${file}`);
}

async function replayEvents(
  context: CommandContext,
  store: EventStore,
  filter: EventFilter,
  options: ReplayOptions,
): Promise<void> {
  const { io } = context;
  const colors = createColors({ isTTY: io.stdout.isTTY, env: io.env, noColorFlag: context.globals.color === false });
  const formatter = createEventFormatter(options.format ?? (wantsJson(context) ? 'json' : 'pretty'), colors);
  const upcast = await recordUpcasterFor(context, store, options.raw);
  const format: EventFormatter = upcast ? (record) => formatter(upcast(record)) : formatter;
  const writer = createLineWriter(io.stdout);
  try {
    for await (const page of readAllEvents(store, filter)) {
      for (const record of page) await writer.line(format(record));
    }
    await writer.flush();
  } finally {
    writer.dispose();
  }
}

export const run: CommandRun = async (context, _args, raw) => {
  const { io } = context;
  const options = parseOptions(optionsSchema, raw);
  if (options.topic !== undefined && options.stream !== undefined) {
    throw new EvlogError('usage', '--topic and --stream cannot be combined: a stream names its topic (topic/key)');
  }
  if (options.projection === undefined) {
    if (options.expect !== undefined) throw new EvlogError('usage', '--expect works with --projection');
    if (options.snapshots === false) throw new EvlogError('usage', '--no-snapshots works with --projection');
  } else if (options.format !== undefined || options.raw) {
    throw new EvlogError(
      'usage',
      `${options.raw ? '--raw' : '--format'} is for events; with --projection the state is printed as JSON`,
    );
  }
  const stream = options.stream === undefined ? undefined : parseStreamName(options.stream);
  const definition =
    options.projection === undefined ? undefined : await projectionDefinition(context, options.projection);
  await withStore(context, { create: false }, async (store) => {
    const untilPosition = await targetPosition(store, options.until);
    const filter: EventFilter = { untilPosition };
    if (options.topic !== undefined) filter.topics = [options.topic];
    if (stream) filter.stream = stream;
    await checkSourcesExist(store, filter);
    if (!definition) {
      await replayEvents(context, store, filter, options);
      return;
    }
    const narrow = options.topic !== undefined || stream ? { topics: filter.topics, stream } : undefined;
    const progress = await startProgress(io.stderr, {
      total: untilPosition,
      label: `replaying ${definition.name}`,
      unit: 'events',
      quiet: context.globals.quiet,
      minimum: 200_000,
    });
    let result: Awaited<ReturnType<typeof replayProjection>>;
    try {
      result = await replayProjection(store, definition, {
        untilPosition,
        upcast: await recordUpcasterFor(context, store, false),
        narrow,
        // A check against an expected state folds from scratch: it must see today's reducer,
        // not snapshots that older code wrote at the same version.
        useSnapshots: options.snapshots !== false && options.expect === undefined,
        onProgress: (position) => progress.update(position),
      });
    } finally {
      progress.stop();
    }
    const where = `projection "${definition.name}" at position ${untilPosition}`;
    if (options.expect === undefined) {
      io.stdout.write(`${canonicalJson(result.state, wantsJson(context) ? undefined : 2)}\n`);
      return;
    }
    const differences = diffStates(readExpected(options.expect), result.state);
    if (differences.length > 0) {
      const shown = differences.slice(0, 50).map(formatDifference);
      if (differences.length > shown.length) shown.push(`… and ${differences.length - shown.length} more`);
      throw new EvlogError(
        'failure',
        `${where} differs from ${options.expect} in ${differences.length} place${differences.length === 1 ? '' : 's'}:`,
        {
          details: shown,
          hint: `if the change is intended, write the new expectation: evlog replay --projection ${definition.name} --until ${untilPosition} > ${options.expect}`,
        },
      );
    }
    if (!context.globals.quiet) io.stderr.write(`${where} matches ${options.expect}\n`);
  });
};
