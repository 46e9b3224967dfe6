import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import { parseFrom, parseUntil, type RangeBound } from '../input/parse-range.js';
import type { DataCondition, EventFilter, EventStore } from '../store/index.js';
import { parseStreamName } from '../store/index.js';

export const eventFilterOptionsSchema = z.object({
  from: z.optional(z.string()),
  until: z.optional(z.string()),
  stream: z.optional(z.string()),
  key: z.optional(z.string().check(z.minLength(1, 'cannot be empty'))),
  type: z.optional(z.array(z.string().check(z.minLength(1, 'cannot be empty')))),
  where: z.optional(z.array(z.string())),
  raw: z.optional(z.boolean()),
});

export type EventFilterOptions = z.infer<typeof eventFilterOptionsSchema>;

/** The store filter for the options. Times are turned into positions with the time index. */
export async function buildEventFilter(
  store: EventStore,
  topics: string[],
  options: EventFilterOptions,
  now: number,
): Promise<EventFilter> {
  const filter: EventFilter = {};
  if (topics.length > 0) filter.topics = topics;
  if (options.stream !== undefined) filter.stream = parseStreamName(options.stream);
  if (options.key !== undefined) filter.key = options.key;
  if (options.type) filter.types = options.type;
  if (options.where) filter.where = options.where.map(parseWhere);
  if (options.from !== undefined) filter.fromPosition = await startPosition(store, parseFrom(options.from, now));
  if (options.until !== undefined) filter.untilPosition = await endPosition(store, parseUntil(options.until));
  return filter;
}

async function startPosition(store: EventStore, bound: RangeBound): Promise<number> {
  if (bound.kind === 'position') return bound.position;
  // Nothing recorded at or after that time yet: start after the head.
  return (await store.findPositionAtOrAfter(bound.time)) ?? (await store.head()).position + 1;
}

async function endPosition(store: EventStore, bound: RangeBound): Promise<number> {
  return bound.kind === 'position' ? bound.position : store.findPositionAtOrBefore(bound.time);
}

function parseWhere(text: string): DataCondition {
  const equals = text.indexOf('=');
  const path = equals > 0 ? text.slice(0, equals).trim() : '';
  if (path === '' || path.split('.').some((step) => step === '')) {
    throw new EvlogError('usage', `--where: "${text}" is not path=value`, { hint: 'e.g. --where customer.id=42' });
  }
  return { path: path.split('.'), value: text.slice(equals + 1) };
}
