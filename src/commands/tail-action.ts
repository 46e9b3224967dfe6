import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import { parseDuration, parseUntil } from '../input/parse-range.js';
import { createColors } from '../output/color.js';
import { createEventFormatter, type EventFormatter } from '../output/format-event.js';
import { createLineWriter, type LineWriter } from '../output/line-writer.js';
import {
  type EventFilter,
  type EventRecord,
  type EventStore,
  formatStreamName,
  readAllEvents,
} from '../store/index.js';
import { waitForCommit } from '../store/wait-for-commit.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, withStore } from './context.js';
import { buildEventFilter, eventFilterOptionsSchema } from './event-filter.js';
import { parseOptions } from './parse-options.js';
import { recordUpcasterFor } from './upcasting.js';

const count = z.coerce
  .number({ error: 'must be a whole number' })
  .check(z.int('must be a whole number'), z.nonnegative('must be 0 or more'));

/** With --follow --until <time>: how long past that time to wait for a writer whose clock lags. */
const CLOCK_SKEW_MS = 1000;

const optionsSchema = z.extend(eventFilterOptionsSchema, {
  lines: z.optional(count),
  follow: z.optional(z.boolean()),
  format: z.optional(z.string()),
  limit: z.optional(count),
  idle: z.optional(z.string()),
});

type TailOptions = z.infer<typeof optionsSchema>;

async function tail(
  context: CommandContext,
  store: EventStore,
  filter: EventFilter,
  formatter: EventFormatter,
  writer: LineWriter,
  options: TailOptions,
  idleMs: number | undefined,
  untilTime: number | undefined,
): Promise<void> {
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  const print = async (records: EventRecord[]) => {
    for (const record of records) {
      if (remaining <= 0) return;
      await writer.line(formatter(record));
      remaining--;
    }
  };

  // With --follow, watch before reading the head, so that no commit can fall between the two.
  const commits = options.follow ? waitForCommit(store) : undefined;
  try {
    // Everything up to this head is the initial output; what comes after is followed.
    const head = (await store.head()).position;
    const initial: EventFilter = { ...filter, untilPosition: Math.min(filter.untilPosition ?? head, head) };
    if (filter.fromPosition !== undefined && options.lines === undefined) {
      for await (const page of readAllEvents(store, initial)) {
        await print(page);
        if (remaining <= 0) break;
        await writer.flush();
      }
    } else {
      const wanted = Math.min(options.lines ?? 10, remaining);
      if (wanted > 0) {
        const last = await store.readEvents(initial, { direction: 'backward', limit: wanted });
        await print(last.reverse());
      }
    }
    await writer.flush();
    if (!commits || remaining <= 0) return;

    let cursor = Math.max(head, (filter.fromPosition ?? 1) - 1);
    let lastEventAt = context.io.now();
    for (;;) {
      const newHead = (await store.head()).position;
      // --until <time> stays a time while following: the end is the last event recorded at or
      // before it, and once an event after it exists (or the clock is past it), no more can come.
      let end = filter.untilPosition ?? Number.POSITIVE_INFINITY;
      let ended = false;
      if (untilTime !== undefined) {
        end = await store.findPositionAtOrBefore(untilTime);
        ended = end < newHead || context.io.now() > untilTime + CLOCK_SKEW_MS;
      }
      const upTo = Math.min(newHead, end);
      if (upTo > cursor) {
        let printed = false;
        for await (const page of readAllEvents(store, { ...filter, untilPosition: upTo }, { after: cursor })) {
          await print(page);
          printed = true;
          if (remaining <= 0) break;
        }
        await writer.flush();
        if (printed) lastEventAt = context.io.now();
        cursor = upTo;
      }
      if (remaining <= 0 || ended || (untilTime === undefined && cursor >= end)) return;
      const now = context.io.now();
      const idleLeft = idleMs === undefined ? Number.POSITIVE_INFINITY : idleMs - (now - lastEventAt);
      if (idleLeft <= 0) return;
      const untilLeft = untilTime === undefined ? Number.POSITIVE_INFINITY : untilTime + CLOCK_SKEW_MS + 1 - now;
      const wait = Math.min(idleLeft, untilLeft);
      await commits.next(Number.isFinite(wait) ? wait : undefined);
    }
  } finally {
    commits?.stop();
  }
}

/** Without --follow, naming a topic or stream that does not exist is an error, not silence. */
export async function checkSourcesExist(store: EventStore, filter: EventFilter): Promise<void> {
  if (filter.topics) {
    const known = new Set((await store.listTopics()).map((t) => t.topic));
    const missing = filter.topics.filter((topic) => !known.has(topic));
    if (missing.length > 0) {
      throw new EvlogError('not_found', `no topic ${missing.map((t) => `"${t}"`).join(', ')} in ${store.path}`, {
        hint: known.size > 0 ? `topics: ${[...known].slice(0, 10).join(', ')}` : 'the store is empty',
      });
    }
  }
  if (filter.stream && (await store.streamVersion(filter.stream.topic, filter.stream.key)) === 0) {
    throw new EvlogError(
      'not_found',
      `no stream ${formatStreamName(filter.stream.topic, filter.stream.key)} in ${store.path}`,
      {
        hint: `list the streams with \`evlog streams ${filter.stream.topic}\`; add -f to wait for it`,
      },
    );
  }
}

export const run: CommandRun = async (context, args, raw) => {
  const { io } = context;
  const options = parseOptions(optionsSchema, raw, { lines: '--lines', idle: '--idle' });
  if (options.idle !== undefined && !options.follow) throw new EvlogError('usage', '--idle works with --follow');
  const idleMs = options.idle === undefined ? undefined : parseDuration(options.idle, '--idle');
  const until = options.until === undefined ? undefined : parseUntil(options.until);
  const untilTime = options.follow && until?.kind === 'time' ? until.time : undefined;
  const format = options.format ?? (context.globals.json ? 'json' : 'pretty');
  const colors = createColors({ isTTY: io.stdout.isTTY, env: io.env, noColorFlag: context.globals.color === false });
  const formatter = createEventFormatter(format, colors);
  await withStore(context, { create: false }, async (store) => {
    const filter = await buildEventFilter(store, args[0] as string[], options, io.now());
    if (!options.follow) await checkSourcesExist(store, filter);
    const writer = createLineWriter(io.stdout);
    // Events of types with upcasters are shown in their latest shape, unless --raw.
    const upcast = await recordUpcasterFor(context, store, options.raw);
    const format: EventFormatter = upcast ? (record) => formatter(upcast(record)) : formatter;
    try {
      await tail(context, store, filter, format, writer, options, idleMs, untilTime);
    } finally {
      writer.dispose();
    }
  });
};
