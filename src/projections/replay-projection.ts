import type { RecordUpcaster } from '../schema/upcast.js';
import type { EventStore } from '../store/port.js';
import { readAllEvents } from '../store/read-all-events.js';
import type { EventFilter } from '../store/types.js';
import type { ProjectionDefinition } from './define-projection.js';
import { foldEvents, projectionFilter, projectionOutput, toProjectionEvent } from './fold.js';

export interface ReplayProjectionOptions {
  /** The last position folded (inclusive). */
  untilPosition: number;
  upcast?: RecordUpcaster;
  /** Narrows the projection's events (e.g. one stream); snapshots are not used then. */
  narrow?: Pick<EventFilter, 'topics' | 'stream'>;
  /** Start from the nearest stored snapshot of this definition version (default true). */
  useSnapshots?: boolean;
  onProgress?: (position: number) => void;
}

export interface ReplayResult {
  /** The state as `projection get` prints it without a key. */
  state: unknown;
  /** The position replayed to. */
  position: number;
  /** The snapshot the fold started from, or null when it started at position 1. */
  snapshotPosition: number | null;
  /** Events folded after the snapshot. */
  events: number;
}

/**
 * A projection's state as of a position, computed in memory without touching its stored
 * read model: from the nearest snapshot of the same definition version at or before the
 * position (if any), then the events after it.
 *
 * @example const { state } = await replayProjection(store, totals, { untilPosition: 1500 });
 */
export async function replayProjection(
  store: EventStore,
  definition: ProjectionDefinition,
  options: ReplayProjectionOptions,
): Promise<ReplayResult> {
  const states = new Map<string, unknown>();
  let after = 0;
  let snapshotPosition: number | null = null;
  if (options.useSnapshots !== false && !options.narrow && options.untilPosition > 0) {
    const snapshot = await store.readProjectionSnapshot(definition.name, definition.version, options.untilPosition);
    if (snapshot) {
      for (const [key, state] of Object.entries(JSON.parse(snapshot.statesJson) as Record<string, unknown>)) {
        states.set(key, state);
      }
      after = snapshot.position;
      snapshotPosition = snapshot.position;
    }
  }
  const filter: EventFilter = { ...projectionFilter(definition), untilPosition: options.untilPosition };
  if (options.narrow?.stream) filter.stream = options.narrow.stream;
  if (options.narrow?.topics) {
    filter.topics = filter.topics
      ? filter.topics.filter((topic) => options.narrow?.topics?.includes(topic))
      : options.narrow.topics;
  }
  let events = 0;
  if (filter.topics?.length !== 0) {
    for await (const page of readAllEvents(store, filter, { after, pageSize: 1000 })) {
      foldEvents(
        definition,
        states,
        page.map((record) => toProjectionEvent(record, options.upcast)),
      );
      events += page.length;
      options.onProgress?.((page[page.length - 1] as { position: number }).position);
    }
  }
  return { state: projectionOutput(definition, states), position: options.untilPosition, snapshotPosition, events };
}
