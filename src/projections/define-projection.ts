import type { StoredEvent } from '../store/types.js';

/** The event a reducer sees: parsed, and upcast to its type's latest shape. */
// biome-ignore lint/suspicious/noExplicitAny: event data is the user's; projections are often written in plain JS
export interface ProjectionEvent<Data = any> extends StoredEvent {
  data: Data;
}

/**
 * A projection: a pure fold over events into a read model. A plain object, so a config file
 * works without importing evlog; `defineProjection` only adds types.
 */
export interface ProjectionDefinition<State = unknown> {
  /** Unique among the config's projections. */
  name: string;
  /** Bump it when `evolve` or `key` changes meaning: the stored read model becomes `stale` until rebuilt. */
  version: number;
  /** Only events of these topics (default: all). */
  topics?: string[];
  /** Only events of these types (default: all). */
  types?: string[];
  /**
   * Partitions the state: one state per key (per customer, per order…). An event for which
   * it returns null or undefined is skipped. Without it, the projection has one state.
   */
  key?(event: ProjectionEvent): string | number | null | undefined;
  /** The state of a key before its first event. Must be JSON (it is stored as JSON). */
  initialState(): State;
  /** The next state. Pure: no I/O, no clock, the same answer every time. */
  // Method syntax: a ProjectionDefinition<Totals> is usable where any projection is expected.
  evolve(state: State, event: ProjectionEvent): State;
  /** Store a snapshot of all keys' states every this many positions (default 10,000). */
  snapshotEvery?: number;
  /**
   * When `evolve` throws: `fail` (default) stops the projection at that event, marked failed;
   * `dead-letter` parks the event (reason `projection-error`) and goes on.
   */
  onError?: 'fail' | 'dead-letter';
}

export const DEFAULT_SNAPSHOT_EVERY = 10_000;

/**
 * Only adds types: a projection is a plain object.
 *
 * @example
 * export default defineProjection({
 *   name: 'order-totals', version: 1, topics: ['orders'], types: ['OrderPlaced'],
 *   key: (event) => event.data.customer.id,
 *   initialState: () => ({ orders: 0, total: 0 }),
 *   evolve: (state, event) => ({ orders: state.orders + 1, total: state.total + event.data.total }),
 * });
 */
export function defineProjection<State>(definition: ProjectionDefinition<State>): ProjectionDefinition<State> {
  return definition;
}
