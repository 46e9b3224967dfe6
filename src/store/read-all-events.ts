import type { EventStore } from './port.js';
import type { EventFilter, EventRecord, JsonObject, StoredEvent } from './types.js';

export interface ReadAllOptions {
  direction?: 'forward' | 'backward';
  /** Start after this position (exclusive). */
  after?: number;
  pageSize?: number;
}

/**
 * Every event that matches the filter, page by page, as an async iterable of pages.
 *
 * @example for await (const page of readAllEvents(store, { topics: ['orders'] })) for (const e of page) …
 */
export async function* readAllEvents(
  store: EventStore,
  filter: EventFilter,
  options: ReadAllOptions = {},
): AsyncGenerator<EventRecord[]> {
  const direction = options.direction ?? 'forward';
  const limit = options.pageSize ?? 1000;
  let after = options.after;
  for (;;) {
    const page = await store.readEvents(filter, { direction, after, limit });
    if (page.length > 0) yield page;
    if (page.length < limit) return;
    after = (page[page.length - 1] as EventRecord).position;
  }
}

/** Parses a record's data and metadata. */
export function parseEventRecord(record: EventRecord): StoredEvent {
  return {
    position: record.position,
    id: record.id,
    topic: record.topic,
    key: record.key,
    version: record.version,
    type: record.type,
    schemaVersion: record.schemaVersion,
    time: record.time,
    data: JSON.parse(record.dataJson) as unknown,
    metadata: JSON.parse(record.metadataJson) as JsonObject,
  };
}
