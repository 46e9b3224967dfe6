import { describe, expect, it } from 'vitest';
import type { EventFilter, EventRecord, PageRequest } from '../store/types.js';
import { eventSource } from './events-source.js';
import { parseEventQuery } from './filter-query.js';
import type { InspectorData } from './inspector-data.js';
import { type PagedSource, PagedWindow, SCAN_BUDGET } from './paged-window.js';

/** Keys 1..count, read `page` at a time; `matches` filters as a scanning source does (reads count all rows). */
function arraySource(count: number, options: { matches?: (key: number) => boolean; scan?: number } = {}) {
  const reads: { direction: string; from: number | null }[] = [];
  const matches = options.matches ?? (() => true);
  const scan = options.scan ?? Number.POSITIVE_INFINITY;
  const source: PagedSource<number> = {
    keyOf: (row) => row,
    async forward(after, limit) {
      reads.push({ direction: 'forward', from: after });
      const rows: number[] = [];
      let key = after;
      while (rows.length < limit && key < count && key - after < scan) {
        key++;
        if (matches(key)) rows.push(key);
      }
      return { rows, next: key, done: key >= count };
    },
    async backward(before, limit) {
      reads.push({ direction: 'backward', from: before });
      const ceiling = before ?? count + 1;
      const rows: number[] = [];
      let key = ceiling;
      while (rows.length < limit && key > 1 && ceiling - key < scan) {
        key--;
        if (matches(key)) rows.unshift(key);
      }
      return { rows, next: key, done: key <= 1, ceiling };
    },
  };
  return { source, reads };
}

describe('PagedWindow', () => {
  it('opens at the start with one read and moves the cursor within what it holds', async () => {
    const { source, reads } = arraySource(1_000_000);
    const window = new PagedWindow(source, { chunk: 50 });
    window.setHeight(20);
    await window.openAtStart();
    expect(window.state().rows).toHaveLength(50);
    expect(reads).toHaveLength(1);
    await window.move(5);
    expect(window.current()).toBe(6);
    expect(reads).toHaveLength(1);
    await window.move(-100);
    expect(window.current()).toBe(1);
  });

  it('reads the next page when the cursor leaves the window, and drops far rows to stay bounded', async () => {
    const { source } = arraySource(1_000_000);
    const window = new PagedWindow(source, { chunk: 50, maxRows: 150 });
    window.setHeight(20);
    await window.openAtStart();
    for (let i = 0; i < 100; i++) await window.move(20);
    expect(window.current()).toBe(2001);
    expect(window.state().rows.length).toBeLessThanOrEqual(150);
    expect(window.state().moreBefore).toBe(true);
    // And back up again, reading what was dropped.
    for (let i = 0; i < 100; i++) await window.move(-20);
    expect(window.current()).toBe(1);
    expect(window.state().moreBefore).toBe(false);
  });

  it('keeps the cursor on screen', async () => {
    const { source } = arraySource(500);
    const window = new PagedWindow(source, { chunk: 50 });
    window.setHeight(10);
    await window.openAtStart();
    await window.move(15);
    const { cursor, top } = window.state();
    expect(cursor).toBe(15);
    expect(cursor - top).toBeLessThan(10);
    expect(cursor).toBeGreaterThanOrEqual(top);
  });

  it('opens at the end with the cursor on the last row, and extends as rows are appended', async () => {
    let count = 300;
    const { source } = arraySource(1);
    const live: PagedSource<number> = {
      keyOf: (row) => row,
      forward: async (after, limit) => {
        const rows = [];
        for (let key = after + 1; key <= count && rows.length < limit; key++) rows.push(key);
        return { rows, next: rows.at(-1) ?? after, done: (rows.at(-1) ?? after) >= count };
      },
      backward: source.backward,
    };
    live.backward = async (before, limit) => {
      const ceiling = before ?? count + 1;
      const rows = [];
      for (let key = ceiling - 1; key >= 1 && rows.length < limit; key--) rows.unshift(key);
      return { rows, next: rows[0] ?? ceiling, done: (rows[0] ?? ceiling) <= 1, ceiling };
    };
    const window = new PagedWindow(live, { chunk: 50 });
    window.setHeight(10);
    await window.openAtEnd();
    expect(window.current()).toBe(300);
    expect(window.state().moreAfter).toBe(false);
    count = 305;
    await window.extendEnd(false);
    // Not following: the new rows are there, the cursor stays where it was.
    expect(window.current()).toBe(300);
    expect(window.state().rows.at(-1)).toBe(305);
    count = 310;
    await window.extendEnd(true);
    expect(window.current()).toBe(310);
    expect(window.state().cursor - window.state().top).toBe(9);
  });

  it('opens at a key with the cursor on the first row at or after it', async () => {
    const { source } = arraySource(10_000, { matches: (key) => key % 10 === 0 });
    const window = new PagedWindow(source, { chunk: 20 });
    await window.openAt(5_005);
    expect(window.current()).toBe(5_010);
    await window.move(-1);
    expect(window.current()).toBe(5_000);
  });

  it('goes on reading a filtered source that scans without finding anything, up to a limit per move', async () => {
    // Only key 9,000 matches; each read scans 500 keys.
    const { source, reads } = arraySource(10_000, { matches: (key) => key === 9_000, scan: 500 });
    const window = new PagedWindow(source, { chunk: 50, maxEmptyReads: 4 });
    await window.openAtStart();
    expect(window.state().rows).toHaveLength(0);
    expect(window.state().moreAfter).toBe(true);
    const before = reads.length;
    await window.move(1);
    // Stopped after four empty reads: a key press never blocks on a long scan.
    expect(reads.length - before).toBe(4);
    for (let i = 0; i < 10 && window.state().rows.length === 0; i++) await window.move(1);
    expect(window.state().rows).toEqual([9_000]);
  });

  it('shows a failing read as an error and stays usable', async () => {
    const { source } = arraySource(100);
    let fail = true;
    const flaky: PagedSource<number> = {
      ...source,
      forward: async (after, limit) => {
        if (fail) throw new Error('database is locked');
        return source.forward(after, limit);
      },
    };
    const window = new PagedWindow(flaky);
    await window.openAtStart();
    expect(window.state().error).toBe('database is locked');
    fail = false;
    // Any move after a failed open tries the open again.
    await window.move(1);
    expect(window.state().error).toBeNull();
    expect(window.state().rows).toHaveLength(100);
  });

  it('reads the rows again on refresh, keeping the cursor on its key', async () => {
    const removed = new Set<number>();
    const { source } = arraySource(1_000, { matches: (key) => !removed.has(key) });
    const window = new PagedWindow(source, { chunk: 50 });
    window.setHeight(10);
    await window.openAt(500);
    expect(window.current()).toBe(500);
    removed.add(500);
    await window.refresh();
    expect(window.current()).toBe(501);
    expect(window.state().rows).not.toContain(500);
  });
});

/**
 * The events source on a log of `count` events made as they are read (a million costs no
 * memory), counting the events it reads from the store; `matching` positions carry the text.
 */
function bigLog(count: number, matching: ReadonlySet<number> = new Set()) {
  const stats = { scanned: 0 };
  const record = (position: number): EventRecord => ({
    position,
    id: `id-${position}`,
    topic: 'orders',
    key: `order-${position}`,
    version: 1,
    type: 'OrderPlaced',
    schemaVersion: null,
    time: position * 1000,
    dataJson: JSON.stringify({ note: matching.has(position) ? 'needle' : 'hay' }),
    metadataJson: '{}',
  });
  const data = {
    head: async () => ({ position: count, time: count * 1000 }),
    async readEvents(_filter: EventFilter, page: PageRequest) {
      const rows: EventRecord[] = [];
      const after = page.after ?? (page.direction === 'forward' ? 0 : count + 1);
      const step = page.direction === 'forward' ? 1 : -1;
      for (let p = after + step; p >= 1 && p <= count && rows.length < page.limit; p += step) rows.push(record(p));
      stats.scanned += rows.length;
      return rows;
    },
  } as unknown as InspectorData;
  return { data, stats };
}

describe('PagedWindow on a text filter over a big log', () => {
  it('scans one budget per key press, all its reads together, and says where it stopped', async () => {
    const { data, stats } = bigLog(1_000_000, new Set([900_000]));
    const window = new PagedWindow(eventSource(data, parseEventQuery('needle')));
    window.setHeight(20);
    await window.openAtEnd();
    expect(stats.scanned).toBeLessThanOrEqual(SCAN_BUDGET + 1000);
    expect(window.state().rows).toEqual([]);
    expect(window.state().searched).toEqual({ direction: 'backward', key: 1_000_001 - stats.scanned });
    for (let press = 1; press <= 3; press++) {
      stats.scanned = 0;
      await window.move(-1);
      expect(stats.scanned).toBeGreaterThan(0);
      expect(stats.scanned).toBeLessThanOrEqual(SCAN_BUDGET + 1000);
    }
    // Each key goes on from where the last stopped, until it finds the match.
    for (let press = 0; press < 10 && window.state().rows.length === 0; press++) await window.move(-1);
    expect(window.state().rows.map((row) => row.position)).toEqual([900_000]);
    expect(window.current()?.position).toBe(900_000);
  });

  it('lets keys in between store pages, and stops a search when cancelled', async () => {
    const { data, stats } = bigLog(1_000_000);
    const window = new PagedWindow(eventSource(data, parseEventQuery('needle')));
    await window.openAtEnd();
    stats.scanned = 0;
    const moving = window.move(-1);
    // One turn of the event loop (a key press could come in here): the search has paused, searching.
    await new Promise((resolve) => setImmediate(resolve));
    expect(window.state().searching).toBe(true);
    window.cancel();
    await moving;
    expect(stats.scanned).toBeLessThan(5000);
    expect(window.state().searching).toBe(false);
    expect(window.state().searched?.direction).toBe('backward');
  });
});
