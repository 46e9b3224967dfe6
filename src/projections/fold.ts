import { EvlogError } from '../errors.js';
import type { RecordUpcaster } from '../schema/upcast.js';
import type { EventFilter, EventRecord, JsonObject } from '../store/types.js';
import type { ProjectionDefinition, ProjectionEvent } from './define-projection.js';

/** The key of a projection without a `key` function: its one state. */
export const SINGLE_STATE_KEY = '';

/** The events a projection reads. */
export function projectionFilter(definition: ProjectionDefinition): EventFilter {
  const filter: EventFilter = {};
  if (definition.topics) filter.topics = definition.topics;
  if (definition.types) filter.types = definition.types;
  return filter;
}

/**
 * An event as a reducer sees it. Metadata is parsed only when a reducer reads it: most read
 * only data, and parsing it for every event costs a fifth of a rebuild.
 */
class ParsedEvent implements ProjectionEvent {
  readonly position: number;
  readonly id: string;
  readonly topic: string;
  readonly key: string | null;
  readonly version: number;
  readonly type: string;
  readonly schemaVersion: number | null;
  readonly time: number;
  readonly data: unknown;
  #metadataJson: string;
  #metadata: JsonObject | undefined;

  constructor(record: EventRecord) {
    this.position = record.position;
    this.id = record.id;
    this.topic = record.topic;
    this.key = record.key;
    this.version = record.version;
    this.type = record.type;
    this.schemaVersion = record.schemaVersion;
    this.time = record.time;
    this.data = JSON.parse(record.dataJson);
    this.#metadataJson = record.metadataJson;
  }

  get metadata(): JsonObject {
    this.#metadata ??= JSON.parse(this.#metadataJson) as JsonObject;
    return this.#metadata;
  }

  toJSON() {
    return { ...this, metadata: this.metadata };
  }
}

/** A stored record as a reducer sees it: upcast, then parsed. */
export function toProjectionEvent(record: EventRecord, upcast: RecordUpcaster | undefined): ProjectionEvent {
  return new ParsedEvent(upcast ? upcast(record) : record);
}

/** The reducer (or key function) threw: names the projection, the event and the error. */
export function projectionFailure(
  definition: ProjectionDefinition,
  event: ProjectionEvent,
  error: unknown,
): EvlogError {
  const message = error instanceof Error ? error.message : String(error);
  return new EvlogError(
    'failure',
    `projection "${definition.name}" failed on the event at position ${event.position} (${event.type}): ${message}`,
    { hint: 'fix the projection, then run it again: it resumes before that event', cause: error },
  );
}

/** The state's key for an event, or undefined when the projection skips it. Throws a projection failure. */
export function keyOf(definition: ProjectionDefinition, event: ProjectionEvent): string | undefined {
  if (!definition.key) return SINGLE_STATE_KEY;
  let key: unknown;
  try {
    key = definition.key(event);
  } catch (error) {
    throw projectionFailure(definition, event, error);
  }
  if (key === null || key === undefined) return undefined;
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw projectionFailure(definition, event, new Error(`key() returned ${typeof key}, not a string or number`));
  }
  return String(key);
}

/** One step of the fold. Throws a projection failure when evolve throws or returns nothing. */
export function evolveState(definition: ProjectionDefinition, state: unknown, event: ProjectionEvent): unknown {
  let next: unknown;
  try {
    next = definition.evolve(state, event);
  } catch (error) {
    throw projectionFailure(definition, event, error);
  }
  if (next === undefined) {
    throw projectionFailure(definition, event, new Error('evolve returned undefined; it must return the new state'));
  }
  return next;
}

/** Folds events into states by key (in place), starting keys from initialState(). */
export function foldEvents(
  definition: ProjectionDefinition,
  states: Map<string, unknown>,
  events: Iterable<ProjectionEvent>,
): void {
  for (const event of events) {
    const key = keyOf(definition, event);
    if (key === undefined) continue;
    const state = states.has(key) ? states.get(key) : definition.initialState();
    states.set(key, evolveState(definition, state, event));
  }
}

/**
 * The shape `projection get` (without a key) and `replay --projection` print: an object of
 * every key's state, or the one state of a projection without `key`.
 */
export function projectionOutput(
  definition: ProjectionDefinition,
  states: Iterable<[string, unknown]>,
): Record<string, unknown> | unknown {
  const byKey = states instanceof Map ? (states as Map<string, unknown>) : new Map(states);
  if (!definition.key) return byKey.has(SINGLE_STATE_KEY) ? byKey.get(SINGLE_STATE_KEY) : definition.initialState();
  const output: Record<string, unknown> = {};
  for (const key of [...byKey.keys()].sort()) output[key] = byKey.get(key);
  return output;
}
