import type { StoreHead } from '../store/types.js';
import { deadLetterSource } from './dead-letter-source.js';
import { eventSource } from './events-source.js';
import { parseDeadLetterQuery, parseEventQuery } from './filter-query.js';
import type { ViewId } from './inspector-context.js';
import type { InspectorData } from './inspector-data.js';
import { PagedWindow } from './paged-window.js';

/** What the first frame shows, read before it is drawn: it is then whole at once. */
export interface FirstFrame {
  view: ViewId;
  head: StoreHead | null;
  parked: number | null;
  /** The opening view's list, read already. */
  window: PagedWindow<unknown> | null;
}

/** Rows of the screen that are not the list: tabs, title, header, message and status lines. */
export const CHROME_ROWS = 5;

/**
 * Reads what the first frame needs: the head, the parked count (it opens on the dead letters
 * when anything is parked: that is what needs a person), and the first page of that view.
 */
export async function prepareFirstFrame(data: InspectorData, rows: number): Promise<FirstFrame> {
  const [head, parked] = await Promise.all([
    data.head().catch(() => null),
    data.deadLetters.count({ status: 'parked' }).catch(() => null),
  ]);
  const view: ViewId = parked !== null && parked > 0 ? 'dead-letters' : 'events';
  let window: PagedWindow<unknown> | null = null;
  if (view === 'dead-letters') {
    const opened = new PagedWindow(deadLetterSource(data.deadLetters, parseDeadLetterQuery('').filter, new Set()));
    opened.setHeight(rows - CHROME_ROWS);
    await opened.openAtStart();
    window = opened as PagedWindow<unknown>;
  } else {
    const opened = new PagedWindow(eventSource(data, parseEventQuery('')));
    opened.setHeight(rows - CHROME_ROWS);
    await opened.openAtEnd();
    window = opened as PagedWindow<unknown>;
  }
  return { view, head, parked, window };
}
