import type {
  AppendOptions,
  AppendResult,
  CompatibilityMode,
  ConsumerGroupRecord,
  ConsumerGroupSummary,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterWithHistory,
  EventFilter,
  EventRecord,
  LeaseResult,
  NewDeadLetter,
  NewEvent,
  PageRequest,
  ProjectionCommit,
  ProjectionRecord,
  ProjectionSnapshot,
  RebuildResolution,
  RedriveResult,
  RegisterSchemaOptions,
  SchemaTypeSummary,
  StoredSchema,
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
   * Registers a JSON Schema document (JSON text) as the type's next version. A document equal
   * to the latest version's text is a no-op returning that version (`created: false`). The
   * store does not judge compatibility: callers check it (src/schema) against the versions
   * they read, and `expectedLatestVersion` makes the store refuse if another version came in
   * meanwhile.
   */
  registerSchema(
    type: string,
    documentJson: string,
    options: RegisterSchemaOptions,
  ): Promise<{ version: number; created: boolean }>;

  /** One version of a type's schema (the latest without `version`), or null. */
  readSchema(type: string, version?: number): Promise<StoredSchema | null>;

  /** Every version of a type's schema, oldest first. */
  readSchemas(type: string): Promise<StoredSchema[]>;

  /** Every type with schemas or a mode, by name. */
  listSchemaTypes(): Promise<SchemaTypeSummary[]>;

  /** The latest schema version of every type that has one: cheap, for the append path. */
  latestSchemaVersions(): Promise<Map<string, number>>;

  /** The type's compatibility mode (`backward` unless set). */
  compatibilityMode(type: string): Promise<CompatibilityMode>;
  setCompatibilityMode(type: string, mode: CompatibilityMode): Promise<void>;

  /** A store setting (e.g. `strict`), or null when unset. */
  readSetting(name: string): Promise<string | null>;
  /** Sets a store setting; null removes it. */
  writeSetting(name: string, value: string | null): Promise<void>;

  /** A projection's run-time record (checkpoint, status, generation, rebuild), or null. */
  readProjection(name: string): Promise<ProjectionRecord | null>;

  /** Every projection with a record in the store, by name. */
  listProjections(): Promise<ProjectionRecord[]>;

  /** The projection's record, created (idle, checkpoint 0) when it has none. */
  createProjection(name: string, version: number): Promise<ProjectionRecord>;

  /** Sets the status and the heartbeat (a runner reporting in). */
  setProjectionStatus(name: string, status: 'idle' | 'running' | 'stale'): Promise<void>;

  /** Writes a batch's states and moves the checkpoint, in one transaction (see ProjectionCommit). */
  commitProjection(batch: ProjectionCommit): Promise<void>;

  /**
   * States as [key, JSON text], by key. Without `generation`, the generation readers see,
   * read in one statement (a rebuild's swap is never seen half-done); with it, `keys` is required.
   */
  readProjectionStates(
    name: string,
    options?: { generation?: number; keys?: readonly string[] },
  ): Promise<[string, string][]>;

  /** Starts a rebuild into a fresh generation (dropping an interrupted one's); returns it. */
  beginProjectionRebuild(name: string, version: number): Promise<number>;

  /**
   * Writes the rebuilt generation's states (a rebuild keeps them in memory: an interrupted
   * one is thrown away anyway) and swaps it in, in one transaction that also marks `resolved`
   * dead letters redriven (see RebuildResolution); then deletes the old one.
   */
  finishProjectionRebuild(
    name: string,
    generation: number,
    states: Iterable<[string, string]>,
    resolved?: RebuildResolution,
  ): Promise<void>;

  /** Drops a rebuild's generation; the read model in use is untouched. */
  abandonProjectionRebuild(name: string, generation: number): Promise<void>;

  /** The latest snapshot of that definition version at or before a position, or null. */
  readProjectionSnapshot(name: string, version: number, atOrBefore: number): Promise<ProjectionSnapshot | null>;

  /**
   * A consumer group's record, created with this topic and handler when it has none. The
   * topic and handler (when given) are replaced only by `owner`, the holder of the group's
   * lease, or when nobody holds it; otherwise, or for another topic once the group has a
   * checkpoint (it counts positions of the old topic), the store refuses with a conflict.
   */
  saveConsumerGroup(
    name: string,
    topic: string,
    handlerJson: string | null,
    owner?: string,
  ): Promise<ConsumerGroupRecord>;

  readConsumerGroup(name: string): Promise<ConsumerGroupRecord | null>;

  /** Every group with its lag (events of its topic after the checkpoint) and parked entries, by name. */
  listConsumerGroups(): Promise<ConsumerGroupSummary[]>;

  /**
   * Takes the group's lease for `ttlMs` when it is free, expired, already `owner`'s, or held
   * by `takeOverFrom` (a holder the caller knows is dead). Otherwise reports the holder.
   */
  acquireGroupLease(name: string, owner: string, ttlMs: number, takeOverFrom?: string): Promise<LeaseResult>;

  /** Extends the lease; false when it is no longer `owner`'s (taken over after it expired). */
  renewGroupLease(name: string, owner: string, ttlMs: number): Promise<boolean>;

  /** Gives the lease up (no-op when not `owner`'s). */
  releaseGroupLease(name: string, owner: string): Promise<void>;

  /**
   * Moves the group's checkpoint to `position` (and parks `deadLetter`, when the event was
   * dead-lettered), in one transaction, and extends the lease. Refused (conflict) when
   * `owner` no longer holds the lease, so a process that lost it never moves the checkpoint.
   */
  commitConsumerCheckpoint(
    name: string,
    owner: string,
    position: number,
    options?: { deadLetter?: NewDeadLetter; leaseTtlMs?: number },
  ): Promise<void>;

  /** Parks dead letters in one transaction; returns their ids. */
  parkDeadLetters(entries: NewDeadLetter[]): Promise<number[]>;

  /** One page of dead letters matching the filter, by id (ascending unless `beforeId`). */
  listDeadLetters(filter: DeadLetterFilter, page: DeadLetterPage): Promise<DeadLetter[]>;

  countDeadLetters(filter: DeadLetterFilter): Promise<number>;

  /** One entry with its history, or null. */
  readDeadLetter(id: number): Promise<DeadLetterWithHistory | null>;

  /**
   * Claims parked entries for a redrive by `owner` until `untilMs`, so two redrives never
   * deliver the same entry at once. Returns the entries claimed: parked ones that nobody else
   * holds (an expired claim is free again).
   */
  claimDeadLetters(ids: readonly number[], owner: string, untilMs: number): Promise<DeadLetter[]>;

  /**
   * Records a claimed entry's redrive: redriven (with the position a batch line was appended
   * at), or failed again (attempts raised, new error, still parked). Releases the claim; a
   * no-op when `owner` no longer holds it. With `append` (a batch line's event), the event is
   * appended in the same transaction and its position recorded; its append results are returned.
   */
  finishRedrive(id: number, owner: string, result: RedriveResult, append?: NewEvent[]): Promise<AppendResult[]>;

  /** Gives up claims without recording anything (the redrive was interrupted). */
  releaseDeadLetterClaims(ids: readonly number[], owner: string): Promise<void>;

  /**
   * Marks parked entries discarded (kept for the audit trail, with a history line). Entries
   * not parked, or claimed by a redrive in progress, are left as they are; returns the ids discarded.
   */
  discardDeadLetters(ids: readonly number[]): Promise<number[]>;

  /**
   * Calls `onChange` soon after any process commits to the store, until the returned
   * function is called. May call it spuriously; never misses a commit.
   */
  watchCommits(onChange: () => void): () => void;

  close(): void;
}
