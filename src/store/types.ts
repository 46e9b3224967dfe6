/** The expected version of a stream before an append: a version number, or a condition. */
export type ExpectedVersion = number | 'none' | 'exists' | 'any';

/** A JSON object: event metadata, and most event data. */
export type JsonObject = { [key: string]: unknown };

/** An event to append. `id` defaults to a generated UUIDv7; `key` null means the keyless stream. */
export interface NewEvent {
  topic: string;
  key?: string | null;
  type: string;
  data: unknown;
  metadata?: JsonObject;
  id?: string;
  expect?: ExpectedVersion;
  schemaVersion?: number | null;
  /** Recorded time to keep (ms since the epoch); honoured only with `preserveTime` (import). */
  time?: number;
}

/** What an append did with one event. */
export interface AppendResult {
  position: number;
  id: string;
  topic: string;
  key: string | null;
  version: number;
  /** True when an event with this id and the same content was already stored: nothing was written. */
  duplicate: boolean;
}

/** The fields every stored event has besides its data and metadata. */
export interface EventEnvelope {
  position: number;
  id: string;
  topic: string;
  key: string | null;
  version: number;
  type: string;
  schemaVersion: number | null;
  /** Recorded time, ms since the epoch (UTC). */
  time: number;
}

/**
 * A stored event with its data and metadata still as the JSON text the store holds,
 * so output can copy them out without parsing them again.
 */
export interface EventRecord extends EventEnvelope {
  dataJson: string;
  /** `{}` when the event has no metadata. */
  metadataJson: string;
}

/** A stored event with data and metadata parsed. */
export interface StoredEvent extends EventEnvelope {
  data: unknown;
  metadata: JsonObject;
}

/** A condition on a field of the event data: `customer.id=42`. */
export interface DataCondition {
  path: string[];
  /** The value as the user wrote it; numbers, true, false and null also match their JSON form. */
  value: string;
}

/** Which events a read returns. All fields are optional and combine with AND. */
export interface EventFilter {
  topics?: string[];
  stream?: { topic: string; key: string | null };
  key?: string;
  types?: string[];
  /** Inclusive lower bound on position. */
  fromPosition?: number;
  /** Inclusive upper bound on position. */
  untilPosition?: number;
  where?: DataCondition[];
}

/** One page of a read: events strictly after (forward) or before (backward) `after`. */
export interface PageRequest {
  direction: 'forward' | 'backward';
  /** Exclusive cursor: the last position of the previous page. */
  after?: number;
  limit: number;
}

export interface StoreHead {
  /** The last position, 0 for an empty store. */
  position: number;
  /** Recorded time of the last event, null for an empty store. */
  time: number | null;
}

export interface TopicSummary {
  topic: string;
  events: number;
  streams: number;
  lastPosition: number;
}

export interface StreamSummary {
  stream: string;
  topic: string;
  key: string | null;
  version: number;
  lastPosition: number;
}

export interface StoreStats {
  path: string;
  schemaVersion: number;
  events: number;
  topics: number;
  streams: number;
  types: number;
  headPosition: number;
  firstTime: number | null;
  lastTime: number | null;
  sizeBytes: number;
  consumerGroups: number;
  /** Dead letters with status `parked`. */
  parkedDeadLetters: number;
}

export interface AppendOptions {
  /** Keep each event's `time` (clamped so time never goes backwards). Used by import. */
  preserveTime?: boolean;
  /** Dead letters to park in the same transaction (bad lines of a batch appended with `--on-invalid dead-letter`). */
  deadLetters?: NewDeadLetter[];
}

/** How a new schema version must relate to earlier ones (Confluent Schema Registry's modes). */
export type CompatibilityMode =
  | 'none'
  | 'backward'
  | 'forward'
  | 'full'
  | 'backward-transitive'
  | 'forward-transitive'
  | 'full-transitive';

export const COMPATIBILITY_MODES: readonly CompatibilityMode[] = [
  'backward',
  'forward',
  'full',
  'none',
  'backward-transitive',
  'forward-transitive',
  'full-transitive',
];

/** The mode of a type that was never given one. */
export const DEFAULT_COMPATIBILITY_MODE: CompatibilityMode = 'backward';

/** One registered version of a type's JSON Schema. */
export interface StoredSchema {
  type: string;
  version: number;
  /** The JSON Schema document as JSON text, exactly as registered. */
  documentJson: string;
  /** When it was registered, ms since the epoch. */
  registeredAt: number;
}

/** A type in the registry: its versions and its compatibility mode. */
export interface SchemaTypeSummary {
  type: string;
  latestVersion: number;
  versions: number[];
  compat: CompatibilityMode;
}

export interface RegisterSchemaOptions {
  /**
   * The latest version the caller checked compatibility against (0: none). If another
   * process registered a version meanwhile, the store refuses with a conflict.
   */
  expectedLatestVersion: number;
  /** Also set the type's compatibility mode, in the same transaction. */
  compat?: CompatibilityMode;
}

/**
 * A projection's stored status. `running` and `rebuilding` are reported only while the
 * process doing it is alive (its heartbeat is fresh); `stale`: the definition's version
 * differs from the read model's.
 */
export type ProjectionStatus = 'idle' | 'running' | 'failed' | 'stale' | 'rebuilding';

/** A projection's run-time record in the store (its definition lives in code). */
export interface ProjectionRecord {
  name: string;
  /** The definition version the current read model was built with. */
  version: number;
  /** The generation of states that readers see. */
  generation: number;
  /** Every event up to this position has been applied (0: none). */
  checkpoint: number;
  status: Exclude<ProjectionStatus, 'rebuilding'>;
  lastError: string | null;
  /** The position of the event the reducer failed on. */
  errorPosition: number | null;
  /** When a runner last reported in (ms since the epoch). */
  heartbeatAt: number;
  /** A rebuild in progress (or interrupted): its generation, version, checkpoint and heartbeat. */
  rebuild: { generation: number; version: number; checkpoint: number; heartbeatAt: number } | null;
  /** How many keys the current generation holds. */
  keys: number;
}

/**
 * One batch of a projection run, committed in one transaction: the states written, and the
 * checkpoint moved from `from` to `to`. The store refuses (conflict) when the checkpoint is
 * no longer `from` or the generation is no longer the one written to, so two runners can
 * never apply an event twice.
 */
export interface ProjectionCommit {
  name: string;
  generation: number;
  /** True when writing a rebuild's fresh generation. */
  rebuild: boolean;
  from: number;
  to: number;
  /** [key, state as JSON text] */
  states: [string, string][];
  /** Also store a snapshot of every key's state at `to`, under this definition version. */
  snapshotVersion?: number;
  /**
   * The snapshot's states (a JSON object of key → state) when the caller holds them all;
   * without it the store builds the snapshot from the generation's stored states.
   */
  snapshotJson?: string;
  /** The reducer threw on the event at `position` (after `to`): mark the projection failed. */
  failure?: { error: string; position: number };
  /** Events the reducer threw on, parked instead (a definition with `onError: 'dead-letter'`). */
  deadLetters?: NewDeadLetter[];
  /**
   * A redrive of dead letter `id` (claimed by `owner`): the states are written to the current
   * generation and the entry is marked redriven in the same transaction; the checkpoint is
   * neither checked nor moved (`from`/`to` are ignored), and no snapshot is taken. Refused
   * (conflict) when the claim was lost, or when a runner or a rebuild of the projection has
   * reported in within `quietForMs` (it holds states in memory and would write over this one).
   * `note` goes to the entry's history line (e.g. no key takes the event: no state is written).
   */
  redrive?: { id: number; owner: string; quietForMs: number; note?: string };
}

/**
 * Dead letters of a projection whose events a rebuild applied without error: marked
 * `redriven` in the swap's transaction (a history line with `note`), since the swapped-in read
 * model holds their events and a redrive would apply them twice. Entries no longer parked are
 * left as they are.
 */
export interface RebuildResolution {
  ids: readonly number[];
  note: string;
}

/** A snapshot: every key's state (a JSON object of key → state) after the event at `position`. */
export interface ProjectionSnapshot {
  name: string;
  version: number;
  position: number;
  statesJson: string;
}

/** Who parked a dead letter: a consumer group, a projection, or `append` (a bad batch line). */
export type DeadLetterSource = 'consumer' | 'projection' | 'append';

/** Why it was parked. */
export type DeadLetterReason = 'handler-failed' | 'timeout' | 'invalid' | 'projection-error';

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'handler-failed',
  'timeout',
  'invalid',
  'projection-error',
];

/** `parked` until it is redriven (delivered again with success) or discarded (kept for the audit trail). */
export type DeadLetterStatus = 'parked' | 'redriven' | 'discarded';

export const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = ['parked', 'redriven', 'discarded'];

/** What a batch gave every line that did not say otherwise, kept with a parked line. */
export interface LineDefaults {
  key?: string;
  schemaVersion?: number;
}

/** A dead letter to park. */
export interface NewDeadLetter {
  source: DeadLetterSource;
  /** The consumer group's or the projection's name; `append` for a batch line. */
  group: string;
  /** The event's position (consumers, projections); null for a batch line. */
  position: number | null;
  topic: string | null;
  type: string | null;
  /** The raw input line of a batch (null for stored events). */
  line: string | null;
  /** The batch's defaults for that line besides the topic (`--key`, `--schema-version`). */
  lineDefaults?: LineDefaults | null;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  /** When the first attempt failed (ms since the epoch); defaults to the store's clock. */
  firstFailedAt?: number;
}

/** A parked (or once parked) event or input line. */
export interface DeadLetter {
  /** 1, 2, 3, … in the order entries were parked. */
  id: number;
  source: DeadLetterSource;
  group: string;
  position: number | null;
  topic: string | null;
  type: string | null;
  line: string | null;
  lineDefaults: LineDefaults | null;
  reason: DeadLetterReason;
  /** The last failure's error text. */
  error: string;
  attempts: number;
  status: DeadLetterStatus;
  firstFailedAt: number;
  lastFailedAt: number;
}

/** One thing that happened to a dead letter after it was parked. */
export interface DeadLetterHistoryEntry {
  at: number;
  action: 'redriven' | 'failed' | 'discarded';
  /** The new error when a redrive failed again. */
  error: string | null;
  /** Where a redriven batch line was appended. */
  position: number | null;
  /** Why, when it was not a plain redrive: e.g. a rebuild applied the event, or no key takes it. */
  note: string | null;
}

export interface DeadLetterWithHistory extends DeadLetter {
  history: DeadLetterHistoryEntry[];
}

/** Which dead letters to list or count; every field narrows. */
export interface DeadLetterFilter {
  ids?: readonly number[];
  /** Ids up to this one: a bulk action pinned to what it counted, so entries parked later are left alone. */
  maxId?: number;
  group?: string;
  source?: DeadLetterSource;
  status?: DeadLetterStatus;
  type?: string;
  reason?: DeadLetterReason;
  /** Last failed at or after (ms since the epoch). */
  since?: number;
  /** Last failed at or before (ms since the epoch). */
  until?: number;
  /** Case-insensitive text in the group, type, reason or error. */
  text?: string;
}

/** A page of dead letters by id: after `afterId` (ascending) or before `beforeId` (descending). */
export interface DeadLetterPage {
  limit: number;
  afterId?: number;
  beforeId?: number;
}

/** The outcome of delivering a parked entry again. */
export type RedriveResult =
  | { ok: true; position?: number | null; note?: string }
  | { ok: false; error: string; reason?: DeadLetterReason };

/** A consumer group's record in the store. Its handler is kept as JSON text that src/consumers owns. */
export interface ConsumerGroupRecord {
  name: string;
  topic: string;
  handlerJson: string;
  /** Every event of the topic up to this position succeeded or was dead-lettered (0: none). */
  checkpoint: number;
  /** The process holding the group's lease, or null. */
  leaseOwner: string | null;
  /** When that lease ends unless renewed (ms since the epoch). */
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A group as listed: its record, the events of its topic after the checkpoint, and its parked entries. */
export interface ConsumerGroupSummary extends ConsumerGroupRecord {
  lag: number;
  parked: number;
}

/** Taking a group's lease: granted, or held by another owner until a time. */
export type LeaseResult =
  | { acquired: true; group: ConsumerGroupRecord }
  | { acquired: false; holder: string; expiresAt: number };
