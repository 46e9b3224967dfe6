import type { ProjectionStatusView, RunReport } from '../projections/index.js';
import type {
  EventFilter,
  EventRecord,
  PageRequest,
  SchemaTypeSummary,
  StoredSchema,
  StoreHead,
} from '../store/types.js';
import type {
  ConsumerGroupSummary,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterWithHistory,
} from './dead-letter-types.js';

/** What a redrive did with one entry (DESIGN.md: `dlq redrive --json`). */
export interface RedriveOutcome {
  id: number;
  outcome: 'redriven' | 'failed';
  /** The new error when it failed again. */
  error: string | null;
}

/** The dead letters of the store and the two actions on them. */
export interface DeadLetterData {
  list(filter: DeadLetterFilter, page: DeadLetterPage): Promise<DeadLetter[]>;
  count(filter: DeadLetterFilter): Promise<number>;
  read(id: number): Promise<DeadLetterWithHistory | null>;
  redrive(ids: readonly number[]): Promise<RedriveOutcome[]>;
  /** Returns the ids discarded (entries no longer parked are left as they are). */
  discard(ids: readonly number[]): Promise<number[]>;
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

  /** Absent while the store has no dead-letter support. */
  deadLetters?: DeadLetterData;
  /** Absent while the store has no consumer groups. */
  listConsumerGroups?: () => Promise<ConsumerGroupSummary[]>;
}
