import type {
  AppendOptions,
  AppendResult,
  EventFilter,
  EventRecord,
  NewEvent,
  PageRequest,
  StoreHead,
  StoreStats,
  StreamSummary,
  TopicSummary,
} from './types.js';

/**
 * The event store port. Batch-oriented and asynchronous at its boundary (reads in pages,
 * appends in batches) so that a networked backend can implement it later; the SQLite
 * adapter works synchronously inside.
 */
export interface EventStore {
  readonly path: string;

  /** Appends a batch in one transaction: all of it, or nothing. */
  appendEvents(events: NewEvent[], options?: AppendOptions): Promise<AppendResult[]>;

  /**
   * Appends batches that arrive over time, all in one transaction that commits when the
   * source ends and rolls back if it throws. For inputs too large to hold in memory.
   */
  appendEventStream(batches: AsyncIterable<NewEvent[]>, options?: AppendOptions): Promise<AppendResult[]>;

  /** One page of events matching the filter, in the page's direction. */
  readEvents(filter: EventFilter, page: PageRequest): Promise<EventRecord[]>;

  head(): Promise<StoreHead>;

  /** The first position recorded at or after `time`, or null if there is none. */
  findPositionAtOrAfter(time: number): Promise<number | null>;

  /** The last position recorded at or before `time`, or 0 if there is none. */
  findPositionAtOrBefore(time: number): Promise<number>;

  /** The stream's current version: 0 when it has no events. */
  streamVersion(topic: string, key: string | null): Promise<number>;

  listTopics(): Promise<TopicSummary[]>;
  listStreams(topic: string): Promise<StreamSummary[]>;
  stats(): Promise<StoreStats>;

  /**
   * Calls `onChange` soon after any process commits to the store, until the returned
   * function is called. May call it spuriously; never misses a commit.
   */
  watchCommits(onChange: () => void): () => void;

  close(): void;
}
