import type { DeadLetter, DeadLetterFilter } from '../store/types.js';
import type { DeadLetterData } from './inspector-data.js';
import type { PagedSource, PageResult } from './paged-window.js';

/** Entries acted on in this session stay listed (with their outcome) up to this many. */
export const MAX_KEPT_IN_PLACE = 1000;

function byId(a: DeadLetter, b: DeadLetter): number {
  return a.id - b.id;
}

/** Both lists, without repeats, by id. */
function merge(main: DeadLetter[], extra: DeadLetter[]): DeadLetter[] {
  if (extra.length === 0) return main;
  const seen = new Set(main.map((entry) => entry.id));
  return [...main, ...extra.filter((entry) => !seen.has(entry.id))].sort(byId);
}

/**
 * Dead letters matching the filter, by id, read from the store page by page. Entries in
 * `kept` (redriven or discarded in this session) are listed too even when the filter's
 * status no longer matches them, so their outcome shows in place.
 */
export function deadLetterSource(
  deadLetters: DeadLetterData,
  filter: DeadLetterFilter,
  kept: ReadonlySet<number>,
): PagedSource<DeadLetter> {
  const { status, ...withoutStatus } = filter;
  const keptIds = (test: (id: number) => boolean) =>
    status === undefined ? [] : [...kept].filter(test).sort((a, b) => a - b);
  return {
    keyOf: (entry) => entry.id,
    async forward(after, limit): Promise<PageResult<DeadLetter>> {
      const main = await deadLetters.list(filter, { afterId: after, limit });
      const ids = keptIds((id) => id > after);
      const extra = ids.length > 0 ? await deadLetters.list({ ...withoutStatus, ids }, { afterId: after, limit }) : [];
      const rows = merge(main, extra).slice(0, limit);
      const full = rows.length === limit;
      return { rows, next: rows.at(-1)?.id ?? after, done: !full && main.length < limit };
    },
    async backward(before, limit) {
      const ceiling = before ?? Number.MAX_SAFE_INTEGER;
      const main = (await deadLetters.list(filter, { beforeId: ceiling, limit })).sort(byId);
      const ids = keptIds((id) => id < ceiling);
      const extra =
        ids.length > 0
          ? (await deadLetters.list({ ...withoutStatus, ids }, { beforeId: ceiling, limit })).sort(byId)
          : [];
      const rows = merge(main, extra).slice(-limit);
      return { rows, next: rows[0]?.id ?? ceiling, done: rows.length < limit && main.length < limit, ceiling };
    },
  };
}
