import type { EventRecord, JsonObject } from '../store/types.js';
import type { EventQuery } from './filter-query.js';
import type { InspectorData } from './inspector-data.js';
import { freshScan, type PagedSource, type PageResult, SCAN_BUDGET, type Scan } from './paged-window.js';

/** Events read per store page while matching text in the inspector. */
const SCAN_PAGE = 1000;

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
 * and correlation ids, by matching the pages read: such a read looks at no more events than
 * its scan has left (one budget per key press, shared by the window's reads), pausing for
 * keys between store pages, and reports how far it got, so the window can go on from there.
 */
export function eventSource(data: InspectorData, query: EventQuery): PagedSource<EventRecord> {
  const matches = matcher(query);
  const { filter } = query;
  return {
    keyOf: (record) => record.position,
    async forward(after, limit, scan: Scan = freshScan(SCAN_BUDGET)): Promise<PageResult<EventRecord>> {
      if (!matches) {
        const rows = await data.readEvents(filter, { direction: 'forward', after, limit });
        return { rows, next: rows.at(-1)?.position ?? after, done: rows.length < limit };
      }
      const rows: EventRecord[] = [];
      let next = after;
      // At least one page per read: a read always gets somewhere.
      for (;;) {
        const page = await data.readEvents(filter, { direction: 'forward', after: next, limit: SCAN_PAGE });
        for (const record of page) {
          next = record.position;
          scan.remaining--;
          if (matches(record)) rows.push(record);
          if (rows.length >= limit) return { rows, next, done: false };
        }
        if (page.length < SCAN_PAGE) return { rows, next, done: true };
        if (scan.remaining <= 0 || scan.cancelled) return { rows, next, done: false };
        await scan.pause();
        if (scan.cancelled) return { rows, next, done: false };
      }
    },
    async backward(before, limit, scan: Scan = freshScan(SCAN_BUDGET)) {
      const ceiling = before ?? (await data.head()).position + 1;
      if (!matches) {
        const rows = (await data.readEvents(filter, { direction: 'backward', after: ceiling, limit })).reverse();
        return { rows, next: rows[0]?.position ?? ceiling, done: rows.length < limit, ceiling };
      }
      const rows: EventRecord[] = [];
      let next = ceiling;
      for (;;) {
        const page = await data.readEvents(filter, { direction: 'backward', after: next, limit: SCAN_PAGE });
        for (const record of page) {
          next = record.position;
          scan.remaining--;
          if (matches(record)) rows.unshift(record);
          if (rows.length >= limit) return { rows, next, done: false, ceiling };
        }
        if (page.length < SCAN_PAGE) return { rows, next, done: true, ceiling };
        if (scan.remaining <= 0 || scan.cancelled) return { rows, next, done: false, ceiling };
        await scan.pause();
        if (scan.cancelled) return { rows, next, done: false, ceiling };
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
