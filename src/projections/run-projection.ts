import { EvlogError } from '../errors.js';
import type { RecordUpcaster } from '../schema/upcast.js';
import type { EventStore } from '../store/port.js';
import { readAllEvents } from '../store/read-all-events.js';
import type { DeadLetter, EventRecord, NewDeadLetter, ProjectionRecord, RebuildResolution } from '../store/types.js';
import { DEFAULT_SNAPSHOT_EVERY, type ProjectionDefinition, type ProjectionEvent } from './define-projection.js';
import { evolveState, keyOf, projectionFailure, projectionFilter, toProjectionEvent } from './fold.js';

export interface RunProjectionOptions {
  /** Turns stored records into their latest shape before the reducer sees them. */
  upcast?: RecordUpcaster;
  /** Events per transaction (default 5,000). */
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (progress: { position: number; target: number; events: number }) => void;
}

export interface RunReport {
  name: string;
  /** The checkpoint before and after. */
  from: number;
  to: number;
  /** Events the reducer was given. */
  events: number;
}

const DEFAULT_BATCH_SIZE = 5_000;

/** Where a fold writes: the generation readers see, or a rebuild's fresh one. */
interface FoldTarget {
  generation: number;
  rebuild: boolean;
}

/**
 * Folds a projection's events from its checkpoint to a position into a generation, in
 * batches. Each batch's states and the checkpoint move in one transaction, and the store
 * refuses a batch whose starting checkpoint is not the stored one: a killed process loses
 * at most its open batch, and no event is ever applied twice.
 */
function createFolder(
  store: EventStore,
  definition: ProjectionDefinition,
  target: FoldTarget,
  start: { checkpoint: number; complete: boolean },
  options: RunProjectionOptions & { alreadyParked?: ReadonlySet<number> },
) {
  const states = new Map<string, unknown>();
  // True when every key's state is in `states` (a fresh read model): no need to read the store.
  let complete = start.complete;
  let checkpoint = start.checkpoint;
  let lastSnapshot = start.checkpoint;
  let events = 0;
  // The positions the projection's code failed on (parked, or met again parked or discarded).
  const failedPositions = new Set<number>();
  const snapshotEvery = definition.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;

  async function loadStates(keys: Set<string>): Promise<void> {
    if (complete) return;
    const missing = [...keys].filter((key) => !states.has(key));
    if (missing.length === 0) return;
    const rows = await store.readProjectionStates(definition.name, { generation: target.generation, keys: missing });
    for (const [key, json] of rows) states.set(key, JSON.parse(json));
  }

  async function commit(
    written: [string, string][],
    to: number,
    failure?: { error: string; position: number },
    deadLetters?: NewDeadLetter[],
  ): Promise<void> {
    // Every `snapshotEvery` positions, but no more often than once per as many positions as
    // there are keys: a snapshot copies every key's state, so it never costs more than the fold.
    const sinceSnapshot = to - lastSnapshot;
    const snapshot = !failure && sinceSnapshot >= snapshotEvery && sinceSnapshot >= states.size;
    if (snapshot) lastSnapshot = to;
    await store.commitProjection({
      name: definition.name,
      generation: target.generation,
      rebuild: target.rebuild,
      from: checkpoint,
      to,
      states: written,
      snapshotVersion: snapshot ? definition.version : undefined,
      // A rebuild holds every state (the stored generation is empty until the swap).
      snapshotJson: snapshot && target.rebuild ? JSON.stringify(Object.fromEntries(states)) : undefined,
      failure,
      deadLetters: deadLetters?.length ? deadLetters : undefined,
    });
    checkpoint = to;
  }

  /** A state as stored; throws (a plain error) when it cannot be written as JSON. */
  function serialize(state: unknown): string {
    const json = JSON.stringify(state);
    if (json === undefined) throw new Error(`the state (${typeof state}) cannot be written as JSON`);
    return json;
  }

  /** The state after one event, or a projection failure naming that event (initialState, evolve). */
  function step(key: string, event: ProjectionEvent): unknown {
    let state: unknown;
    if (states.has(key)) state = states.get(key);
    else {
      try {
        state = definition.initialState();
      } catch (error) {
        throw projectionFailure(definition, event, error);
      }
    }
    return evolveState(definition, state, event);
  }

  /**
   * Applies one batch and commits it with the checkpoint at `to`. Any error the projection's
   * code causes (upcast, key, initialState, evolve, a state that is not JSON) is a failure at
   * that event: the events before it are committed, the projection is marked failed, and the
   * failure is thrown. Errors of the store are thrown as they are.
   */
  async function applyBatch(records: EventRecord[], to: number): Promise<void> {
    if (definition.onError === 'dead-letter') return applyBatchParking(records, to);
    const parsed: ProjectionEvent[] = new Array(records.length);
    const keys: (string | undefined)[] = new Array(records.length);
    // The first failing event's index (records.length: none) and its error.
    let failedAt = records.length;
    let failure: EvlogError | undefined;
    // Upcast and key every event first, to read the batch's states in one query. key() is a
    // pure function of the event, so computing it ahead does not change which event fails first.
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as EventRecord;
      try {
        parsed[i] = toProjectionEvent(record, options.upcast);
      } catch (error) {
        failedAt = i;
        failure = projectionFailure(
          definition,
          { position: record.position, type: record.type } as ProjectionEvent,
          error,
        );
        break;
      }
      try {
        keys[i] = keyOf(definition, parsed[i] as ProjectionEvent);
      } catch (error) {
        failedAt = i;
        failure = asFailure(error, parsed[i] as ProjectionEvent);
        break;
      }
    }
    await loadStates(new Set(keys.slice(0, failedAt).filter((key): key is string => key !== undefined)));
    const touched = new Set<string>();
    let written: [string, string][] | undefined;
    try {
      for (let i = 0; i < failedAt; i++) {
        const key = keys[i];
        if (key === undefined) continue;
        const event = parsed[i] as ProjectionEvent;
        touched.add(key);
        try {
          states.set(key, step(key, event));
        } catch (error) {
          failedAt = i;
          failure = asFailure(error, event);
          break;
        }
      }
      // A rebuild writes its states once, with the swap: an interrupted one is thrown away anyway.
      if (!failure) written = target.rebuild ? [] : [...touched].map((key) => [key, serialize(states.get(key))]);
    } catch {
      // A state that is not JSON: found below, event by event.
      written = undefined;
    }
    if (!failure && written) {
      events += records.length;
      await commit(written, to);
      return;
    }
    if (failure && target.rebuild) throw failure;
    // The reducer may have changed states in place before failing: forget this batch's states,
    // read them back as committed, and apply the events before the failing one again, checking
    // each state as it is produced (so a state that is not JSON fails at its event).
    for (const key of touched) states.delete(key);
    complete = false;
    await loadStates(new Set(keys.slice(0, failedAt).filter((key): key is string => key !== undefined)));
    const good = new Map<string, string>();
    for (let i = 0; i < failedAt; i++) {
      const key = keys[i];
      if (key === undefined) continue;
      const event = parsed[i] as ProjectionEvent;
      try {
        const next = step(key, event);
        good.set(key, serialize(next));
        states.set(key, next);
      } catch (error) {
        // Its state may be half-changed in place: read it back from the store when next needed.
        states.delete(key);
        failedAt = i;
        failure = asFailure(error, event);
        break;
      }
    }
    if (!failure) {
      // Nothing failed the second time (a reducer that is not deterministic): commit the batch.
      events += records.length;
      await commit([...good], to);
      return;
    }
    const failedEvent = parsed[failedAt] ?? { position: (records[failedAt] as EventRecord).position };
    events += failedAt;
    const cause = failure.cause instanceof Error ? failure.cause.message : String(failure.cause ?? failure.message);
    await commit([...good], failedEvent.position - 1, { error: cause, position: failedEvent.position });
    throw failure;
  }

  /**
   * Applies one batch of a projection with `onError: 'dead-letter'`: an event its code fails on
   * (upcast, key, initialState, evolve, or a state that is not JSON) is parked in the batch's
   * commit, and the fold goes on. The failing key's state is put back as it was before the
   * batch (a JSON copy taken at its first touch: evolve may have changed it in place before
   * throwing) and the batch's other events of that key are applied to it again.
   */
  async function applyBatchParking(records: EventRecord[], to: number): Promise<void> {
    const parsed: (ProjectionEvent | undefined)[] = new Array(records.length);
    const keys: (string | undefined)[] = new Array(records.length);
    const parked = new Set<number>();
    const deadLetters: NewDeadLetter[] = [];
    const park = (i: number, error: unknown) => {
      parked.add(i);
      const record = records[i] as EventRecord;
      failedPositions.add(record.position);
      // A rebuild meets again the events parked (or discarded) before: they are not parked twice.
      if (options.alreadyParked?.has(record.position)) return;
      const cause = error instanceof EvlogError && error.cause !== undefined ? error.cause : error;
      deadLetters.push({
        source: 'projection',
        group: definition.name,
        position: record.position,
        topic: record.topic,
        type: record.type,
        line: null,
        reason: 'projection-error',
        error: cause instanceof Error ? cause.message : String(cause),
        attempts: 1,
      });
    };
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as EventRecord;
      try {
        parsed[i] = toProjectionEvent(record, options.upcast);
        keys[i] = keyOf(definition, parsed[i] as ProjectionEvent);
      } catch (error) {
        park(i, error);
      }
    }
    await loadStates(new Set(keys.filter((key, i): key is string => key !== undefined && !parked.has(i))));
    // Each touched key's state before this batch, as JSON (null: the key had no state yet).
    const before = new Map<string, string | null>();
    const restore = (key: string, upTo: number, check: boolean): void => {
      const image = before.get(key);
      if (image === null || image === undefined) states.delete(key);
      else states.set(key, JSON.parse(image));
      for (let j = 0; j < upTo; j++) {
        if (keys[j] !== key || parked.has(j)) continue;
        try {
          const next = step(key, parsed[j] as ProjectionEvent);
          if (check) serialize(next);
          states.set(key, next);
        } catch (error) {
          park(j, error);
          restore(key, upTo, check);
          return;
        }
      }
    };
    for (let i = 0; i < records.length; i++) {
      const key = keys[i];
      if (key === undefined || parked.has(i)) continue;
      if (!before.has(key)) before.set(key, states.has(key) ? serialize(states.get(key)) : null);
      try {
        states.set(key, step(key, parsed[i] as ProjectionEvent));
      } catch (error) {
        park(i, error);
        restore(key, i, false);
      }
    }
    const written: [string, string][] = [];
    for (const key of before.keys()) {
      // Every event of a new key was parked: it still has no state.
      if (!states.has(key)) continue;
      let json: string;
      try {
        json = serialize(states.get(key));
      } catch {
        // A state that is not JSON: find the event that made it, event by event.
        restore(key, records.length, true);
        if (!states.has(key)) continue;
        json = serialize(states.get(key));
      }
      // A rebuild writes its states once, with the swap.
      if (!target.rebuild) written.push([key, json]);
    }
    events += records.length;
    // Found out of order (a state that is not JSON is found last): parked in position order.
    deadLetters.sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
    await commit(written, to, undefined, deadLetters);
  }

  /** The failure at the event: keyOf and step throw one already; anything else is wrapped. */
  function asFailure(error: unknown, event: ProjectionEvent): EvlogError {
    if (error instanceof EvlogError && error.code === 'failure') return error;
    return projectionFailure(definition, event, error);
  }

  return {
    /** Every state as [key, JSON text]: what a rebuild writes with its swap. */
    *serializedStates(): Generator<[string, string]> {
      for (const [key, state] of states) yield [key, JSON.stringify(state)];
    },
    get checkpoint() {
      return checkpoint;
    },
    get events() {
      return events;
    },
    /** Whether the code failed on the event at `position` (folded so far). */
    failedAt(position: number): boolean {
      return failedPositions.has(position);
    },
    /** Folds every matching event after the checkpoint up to `to`, then moves the checkpoint to `to`. */
    async foldUntil(to: number): Promise<void> {
      if (to <= checkpoint) return;
      let batch: EventRecord[] = [];
      const filter = { ...projectionFilter(definition), untilPosition: to };
      for await (const page of readAllEvents(store, filter, { after: checkpoint, pageSize: 2000 })) {
        for (const record of page) {
          batch.push(record);
          if (batch.length >= batchSize) {
            await applyBatch(batch, record.position);
            batch = [];
            options.onProgress?.({ position: checkpoint, target: to, events });
          }
        }
      }
      await applyBatch(batch, to);
      options.onProgress?.({ position: checkpoint, target: to, events });
    },
  };
}

/**
 * The positions of the projection's entries that are parked or discarded: a rebuild does not
 * park them again (a redriven one is parked again if it still fails: the rebuilt read model
 * no longer holds what its redrive applied).
 */
async function parkedPositions(store: EventStore, name: string): Promise<Set<number>> {
  const positions = new Set<number>();
  for (const status of ['parked', 'discarded'] as const) {
    let afterId: number | undefined;
    for (;;) {
      const page = await store.listDeadLetters({ group: name, source: 'projection', status }, { limit: 5000, afterId });
      for (const entry of page) if (entry.position !== null) positions.add(entry.position);
      if (page.length < 5000) break;
      afterId = page[page.length - 1]?.id;
    }
  }
  return positions;
}

/**
 * The projection's parked entries whose event a rebuild folded up to `checkpoint` without an
 * error: the rebuilt read model holds them, so its swap marks them redriven (a redrive would
 * apply them a second time). An entry whose event the definition no longer reads (its topics
 * or types changed) was not applied, and stays parked; so does one the rebuild failed on again.
 */
async function appliedByRebuild(
  store: EventStore,
  definition: ProjectionDefinition,
  checkpoint: number,
  failedAt: (position: number) => boolean,
): Promise<RebuildResolution | undefined> {
  const reads = (entry: DeadLetter) =>
    (!definition.topics || (entry.topic !== null && definition.topics.includes(entry.topic))) &&
    (!definition.types || (entry.type !== null && definition.types.includes(entry.type)));
  const ids: number[] = [];
  let afterId: number | undefined;
  for (;;) {
    const page = await store.listDeadLetters(
      { group: definition.name, source: 'projection', status: 'parked' },
      { limit: 5000, afterId },
    );
    for (const entry of page) {
      const position = entry.position;
      if (position !== null && position <= checkpoint && !failedAt(position) && reads(entry)) ids.push(entry.id);
    }
    if (page.length < 5000) break;
    afterId = page[page.length - 1]?.id;
  }
  if (ids.length === 0) return undefined;
  return {
    ids,
    note: `applied by \`projection rebuild ${definition.name}\` (version ${definition.version}): the rebuilt read model holds it`,
  };
}

/** The stored version differs from the definition's: the read model must be rebuilt first. */
function staleError(definition: ProjectionDefinition, record: ProjectionRecord): EvlogError {
  return new EvlogError(
    'conflict',
    `projection "${definition.name}" is stale: its read model was built by version ${record.version}, the definition is version ${definition.version}`,
    { hint: `rebuild it: evlog projection rebuild ${definition.name}` },
  );
}

/**
 * A runner that catches a projection up from its checkpoint, as often as asked (for
 * `run --follow`), keeping the states it has seen in memory between calls.
 */
export async function createProjectionRunner(
  store: EventStore,
  definition: ProjectionDefinition,
  options: RunProjectionOptions = {},
) {
  const record =
    (await store.readProjection(definition.name)) ??
    (await store.createProjection(definition.name, definition.version));
  if (record.version !== definition.version) {
    if (record.status !== 'stale') await store.setProjectionStatus(definition.name, 'stale');
    throw staleError(definition, record);
  }
  const folder = createFolder(
    store,
    definition,
    { generation: record.generation, rebuild: false },
    { checkpoint: record.checkpoint, complete: record.checkpoint === 0 && record.keys === 0 },
    options,
  );
  const from = record.checkpoint;
  // Whether the stored status is `failed` (undefined: not known, read it).
  let failed: boolean | undefined = record.status === 'failed';
  /**
   * Sets `idle` only if the projection is still `running` as this runner left it: the same
   * generation, and the checkpoint where this runner last put it (another run that committed
   * since, e.g. the winner of a checkpoint race, owns the status now).
   */
  async function release(): Promise<void> {
    const now = await store.readProjection(definition.name);
    if (now?.status !== 'running') return;
    if (now.generation !== record.generation || now.checkpoint !== folder.checkpoint) return;
    await store.setProjectionStatus(definition.name, 'idle');
  }
  return {
    /**
     * Applies every event up to the head as it is now; returns what this runner did so far.
     * `following`: stay `running` afterwards (the caller will catch up again; each call reports in).
     */
    async catchUp(catchUpOptions: { following?: boolean } = {}): Promise<RunReport> {
      const head = (await store.head()).position;
      // A failed projection stays `failed` until a batch past the failing event commits (the
      // store then turns it `running` and clears the error): a run that dies or loses before
      // that leaves the failure showing, not `running` and then `idle`.
      failed ??= (await store.readProjection(definition.name))?.status === 'failed';
      if (!failed) await store.setProjectionStatus(definition.name, 'running');
      const before = folder.checkpoint;
      let done = false;
      try {
        await folder.foldUntil(head);
        done = true;
        // Past the failing event: the store turned the projection `running` and cleared the error.
        if (folder.checkpoint > before) failed = false;
      } catch (error) {
        // A projection failure was committed (failed); after anything else, read it again next time.
        failed = error instanceof EvlogError && error.code === 'failure' ? true : undefined;
        throw error;
      } finally {
        if (!done || !catchUpOptions.following) await release();
      }
      return { name: definition.name, from, to: folder.checkpoint, events: folder.events };
    },
    async stop(): Promise<void> {
      await release();
    },
  };
}

/**
 * Catches a projection up from its checkpoint to the store's head.
 *
 * @example const report = await runProjection(store, totals); // { from: 0, to: 1500, events: 620 }
 */
export async function runProjection(
  store: EventStore,
  definition: ProjectionDefinition,
  options: RunProjectionOptions = {},
): Promise<RunReport> {
  const runner = await createProjectionRunner(store, definition, options);
  return runner.catchUp();
}

/**
 * Rebuilds a projection from position 1 into a fresh generation and swaps it in at the end,
 * in one transaction. Until then readers see the old read model; an interrupted or failed
 * rebuild leaves it as it was.
 *
 * @example await rebuildProjection(store, totals, { onProgress: ({ position, target }) => bar.update(position) });
 */
export async function rebuildProjection(
  store: EventStore,
  definition: ProjectionDefinition,
  options: RunProjectionOptions = {},
): Promise<RunReport> {
  const alreadyParked =
    definition.onError === 'dead-letter' ? await parkedPositions(store, definition.name) : undefined;
  const generation = await store.beginProjectionRebuild(definition.name, definition.version);
  const folder = createFolder(
    store,
    definition,
    { generation, rebuild: true },
    { checkpoint: 0, complete: true },
    { ...options, alreadyParked },
  );
  try {
    // Events appended meanwhile are folded too, a few rounds at most; `run` takes the rest.
    for (let round = 0; round < 3; round++) {
      const head = (await store.head()).position;
      if (round > 0 && head <= folder.checkpoint) break;
      await folder.foldUntil(head);
    }
    const resolved = await appliedByRebuild(store, definition, folder.checkpoint, (p) => folder.failedAt(p));
    await store.finishProjectionRebuild(definition.name, generation, folder.serializedStates(), resolved);
  } catch (error) {
    await store.abandonProjectionRebuild(definition.name, generation).catch(() => {});
    throw error;
  }
  return { name: definition.name, from: 0, to: folder.checkpoint, events: folder.events };
}
