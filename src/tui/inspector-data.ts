import type { DiscardOutcome, RedriveOutcome } from '../consumers/redrive.js';
import type { ProjectionStatusView, RunReport } from '../projections/index.js';
import type {
  ConsumerGroupSummary,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterWithHistory,
  EventFilter,
  EventRecord,
  PageRequest,
  SchemaTypeSummary,
  StoredSchema,
  StoreHead,
} from '../store/types.js';

/** The dead letters of the store and the two actions on them (src/consumers/redrive.ts). */
export interface DeadLetterData {
  list(filter: DeadLetterFilter, page: DeadLetterPage): Promise<DeadLetter[]>;
  count(filter: DeadLetterFilter): Promise<number>;
  read(id: number): Promise<DeadLetterWithHistory | null>;
  /** Per entry: redriven, failed again (with the new error), or skipped (not parked, or claimed). */
  redrive(ids: readonly number[]): Promise<RedriveOutcome[]>;
  /** Per entry: discarded, or skipped (not parked, or claimed by a redrive) with the reason. */
  discard(ids: readonly number[]): Promise<DiscardOutcome[]>;
}

/**
 * Everything the inspector reads from a store and does to it, in one object built in one
 * place (create-inspector-data.ts) from the same library functions the commands call.
 * The UI never touches the store itself, so its components can be driven by a fake.
 */
export interface InspectorData {
  storePath: string;
  head(): Promise<StoreHead>;
  /** Calls `onChange` soon after any process commits to the store; returns the stop function. */
  watchCommits(onChange: () => void): () => void;

  /** A page of events as `tail` shows them (upcast to their latest shape). */
  readEvents(filter: EventFilter, page: PageRequest): Promise<EventRecord[]>;
  /** The first position recorded at or after `time`, or null. */
  findPositionAtOrAfter(time: number): Promise<number | null>;

  /** Every projection of the config and of the store, as `projection status` shows them. */
  listProjections(): Promise<ProjectionStatusView[]>;
  /** Rebuilds one projection, reporting progress after each committed batch. */
  rebuildProjection(name: string, onProgress: (done: number, total: number) => void): Promise<RunReport>;

  listSchemaTypes(): Promise<SchemaTypeSummary[]>;
  /** Every version of a type's schema, oldest first. */
  readSchemas(type: string): Promise<StoredSchema[]>;

  deadLetters: DeadLetterData;
  listConsumerGroups(): Promise<ConsumerGroupSummary[]>;

  /** Redrives still in flight (the inspector was left while one ran). */
  pending(): number;
  /**
   * Stops redrives before their next entry and waits for the entry in flight, so that it is
   * recorded (not left claimed) before the store closes. A rebuild is not waited for: one
   * cut short leaves the read model as it was.
   */
  settle(): Promise<void>;
}
