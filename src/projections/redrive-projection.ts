import { EvlogError } from '../errors.js';
import type { RecordUpcaster } from '../schema/upcast.js';
import type { EventStore } from '../store/port.js';
import type { DeadLetter, RedriveResult } from '../store/types.js';
import type { ProjectionDefinition } from './define-projection.js';
import { evolveState, keyOf, toProjectionEvent } from './fold.js';
import { HEARTBEAT_TIMEOUT_MS } from './projection-status.js';

/**
 * Applies a parked event of a projection (claimed by `owner`) to the current state of its
 * key, and writes that state and the entry's `redriven` mark in one transaction, without
 * moving the checkpoint (the fold went past the event when it parked it). When the
 * projection's code fails on it again, nothing is written and the failure is returned for
 * the caller to record. An event that key() gives no key now changes no state: the entry is
 * marked `redriven` all the same (with a note), in a commit under the same checks. Refuses
 * (conflict) while another process runs or rebuilds the projection, since its in-memory
 * states would write over this one.
 *
 * @example const result = await redriveProjectionEntry(store, totals, entry, owner, upcast); // { ok: true } once written
 */
export async function redriveProjectionEntry(
  store: EventStore,
  definition: ProjectionDefinition,
  entry: DeadLetter,
  owner: string,
  upcast: RecordUpcaster | undefined,
): Promise<RedriveResult> {
  const record = await store.readProjection(definition.name);
  if (!record) {
    return { ok: false, reason: 'projection-error', error: `projection "${definition.name}" has no read model` };
  }
  if (record.version !== definition.version) {
    return {
      ok: false,
      reason: 'projection-error',
      error: `projection "${definition.name}" is stale (read model version ${record.version}, definition version ${definition.version}): rebuild it first (evlog projection rebuild ${definition.name})`,
    };
  }
  const position = entry.position ?? 0;
  const [stored] = await store.readEvents(
    { fromPosition: position, untilPosition: position },
    { direction: 'forward', limit: 1 },
  );
  if (!stored) throw new EvlogError('not_found', `dead letter ${entry.id}: no event at position ${position}`);
  let key: string | undefined;
  let next: unknown;
  try {
    const event = toProjectionEvent(stored, upcast);
    key = keyOf(definition, event);
    if (key !== undefined) {
      const [row] = await store.readProjectionStates(definition.name, { keys: [key] });
      const state = row ? JSON.parse(row[1]) : definition.initialState();
      next = evolveState(definition, state, event);
    }
  } catch (error) {
    const cause = error instanceof EvlogError && error.cause !== undefined ? error.cause : error;
    return { ok: false, reason: 'projection-error', error: cause instanceof Error ? cause.message : String(cause) };
  }
  if (key === undefined) {
    // No key takes the event now: nothing to apply, but the entry is finished (redriven) in a
    // commit, under the same checks as a state would be, and not left parked and claimed.
    const note = 'key() returns no key for the event now: no state was changed';
    await store.commitProjection({
      name: definition.name,
      generation: record.generation,
      rebuild: false,
      from: record.checkpoint,
      to: record.checkpoint,
      states: [],
      redrive: { id: entry.id, owner, quietForMs: HEARTBEAT_TIMEOUT_MS, note },
    });
    return { ok: true, note };
  }
  const json = JSON.stringify(next);
  if (json === undefined) {
    return { ok: false, reason: 'projection-error', error: `the state (${typeof next}) cannot be written as JSON` };
  }
  await store.commitProjection({
    name: definition.name,
    generation: record.generation,
    rebuild: false,
    from: record.checkpoint,
    to: record.checkpoint,
    states: [[key, json]],
    redrive: { id: entry.id, owner, quietForMs: HEARTBEAT_TIMEOUT_MS },
  });
  return { ok: true };
}
