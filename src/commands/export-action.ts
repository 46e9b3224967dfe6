import * as z from 'zod/mini';
import { type EventFormatter, formatCloudEvent, formatEventJson } from '../output/format-event.js';
import { createLineWriter } from '../output/line-writer.js';
import { startProgress } from '../output/progress.js';
import { readAllEvents } from '../store/index.js';
import type { CommandRun } from './command-action.js';
import { withStore } from './context.js';
import { buildEventFilter, eventFilterOptionsSchema } from './event-filter.js';
import { parseOptions } from './parse-options.js';
import { recordUpcasterFor } from './upcasting.js';

const optionsSchema = z.extend(eventFilterOptionsSchema, {
  format: z._default(z.enum(['ndjson', 'json', 'cloudevents']), 'ndjson'),
});

export const run: CommandRun = async (context, args, raw) => {
  const { io } = context;
  const options = parseOptions(optionsSchema, raw);
  const formatter = options.format === 'cloudevents' ? formatCloudEvent : formatEventJson;
  await withStore(context, { create: false }, async (store) => {
    // Events of types with upcasters are exported in their latest shape, unless --raw.
    const upcast = await recordUpcasterFor(context, store, options.raw);
    const format: EventFormatter = upcast ? (record) => formatter(upcast(record)) : formatter;
    const filter = await buildEventFilter(store, args[0] as string[], options, io.now());
    const head = (await store.head()).position;
    const first = filter.fromPosition ?? 1;
    const last = Math.min(filter.untilPosition ?? head, head);
    const progress = await startProgress(io.stderr, {
      total: Math.max(0, last - first + 1),
      label: 'exporting',
      unit: 'events',
      quiet: context.globals.quiet,
    });
    const writer = createLineWriter(io.stdout);
    try {
      for await (const page of readAllEvents(store, { ...filter, untilPosition: last }, { pageSize: 1000 })) {
        for (const record of page) await writer.line(format(record));
        progress.update((page[page.length - 1]?.position ?? first) - first + 1);
      }
      await writer.flush();
    } finally {
      progress.stop();
      writer.dispose();
    }
  });
};
