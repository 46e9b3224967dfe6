import type { EventRecord, JsonObject } from '../store/types.js';
import type { EventQuery } from './filter-query.js';
import type { InspectorData } from './inspector-data.js';
import type { PagedSource, PageResult } from './paged-window.js';

/** Events read per store page while matching text in the inspector. */
const SCAN_PAGE = 1000;
/** Events looked at per read, at most: a read (a key press) never scans the whole log. */
const SCAN_BUDGET = 20_000;

/** A test for the parts of a query the store cannot filter by: text, correlation id. */
function matcher(query: EventQuery): ((record: EventRecord) => boolean) | null {
  const { text, correlationId } = query;
  if (!text && !correlationId) return null;
  const needle = text?.toLowerCase();
  return (record) => {
    if (correlationId !== undefined) {
      if (!record.metadataJson.includes(correlationId)) return false;
      const metadata = JSON.parse(record.metadataJson) as JsonObject;
      if (metadata.correlationId !== correlationId) return false;
    }
    if (needle !== undefined) {
      const haystack = `${record.topic} ${record.key ?? ''} ${record.type} ${record.dataJson} ${record.metadataJson}`;
      if (!haystack.toLowerCase().includes(needle)) return false;
    }
    return true;
  };
}

/**
 * The events of the log by position, filtered by the store (topic, type, key) and, for text
 * and correlation ids, by matching the pages read: such a read looks at no more than
 * SCAN_BUDGET events and reports how far it got, so the window can go on from there.
 */
export function eventSource(data: InspectorData, query: EventQuery): PagedSource<EventRecord> {
  const matches = matcher(query);
  const { filter } = query;
  return {
    keyOf: (record) => record.position,
    async forward(after, limit): Promise<PageResult<EventRecord>> {
      if (!matches) {
        const rows = await data.readEvents(filter, { direction: 'forward', after, limit });
        return { rows, next: rows.at(-1)?.position ?? after, done: rows.length < limit };
      }
      const rows: EventRecord[] = [];
      let next = after;
      let scanned = 0;
      for (;;) {
        const page = await data.readEvents(filter, { direction: 'forward', after: next, limit: SCAN_PAGE });
        for (const record of page) {
          next = record.position;
          if (matches(record)) rows.push(record);
          if (rows.length >= limit) return { rows, next, done: false };
        }
        scanned += page.length;
        if (page.length < SCAN_PAGE) return { rows, next, done: true };
        if (scanned >= SCAN_BUDGET) return { rows, next, done: false };
      }
    },
    async backward(before, limit) {
      const ceiling = before ?? (await data.head()).position + 1;
      if (!matches) {
        const rows = (await data.readEvents(filter, { direction: 'backward', after: ceiling, limit })).reverse();
        return { rows, next: rows[0]?.position ?? ceiling, done: rows.length < limit, ceiling };
      }
      const rows: EventRecord[] = [];
      let next = ceiling;
      let scanned = 0;
      for (;;) {
        const page = await data.readEvents(filter, { direction: 'backward', after: next, limit: SCAN_PAGE });
        for (const record of page) {
          next = record.position;
          if (matches(record)) rows.unshift(record);
          if (rows.length >= limit) return { rows, next, done: false, ceiling };
        }
        scanned += page.length;
        if (page.length < SCAN_PAGE) return { rows, next, done: true, ceiling };
        if (scanned >= SCAN_BUDGET) return { rows, next, done: false, ceiling };
      }
    },
  };
}

/** The event's metadata.correlationId, when it has one. */
export function correlationIdOf(record: EventRecord): string | null {
  try {
    const value = (JSON.parse(record.metadataJson) as JsonObject).correlationId;
    return typeof value === 'string' && value !== '' ? value : null;
  } catch {
    return null;
  }
}
