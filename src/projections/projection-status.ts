import type { ProjectionRecord, ProjectionStatus } from '../store/types.js';
import type { ProjectionDefinition } from './define-projection.js';

/** A runner that has not reported in for this long is gone (killed, or its machine slept). */
export const HEARTBEAT_TIMEOUT_MS = 30_000;

/** What `projection list` and `status` show for one projection. */
export interface ProjectionStatusView {
  name: string;
  /** The definition's version (null: in the store but no longer in the config). */
  version: number | null;
  /** The version the read model was built with (null: never run). */
  storedVersion: number | null;
  status: ProjectionStatus;
  checkpoint: number;
  head: number;
  /** head − checkpoint: events the read model has not seen yet. */
  lag: number;
  keys: number;
  lastError: { message: string; position: number | null } | null;
  /** A rebuild in progress: how far it got. */
  rebuild: { checkpoint: number } | null;
  /** Events parked as dead letters (`onError: 'dead-letter'`) and not yet redriven or discarded. */
  parked: number;
}

/**
 * The status as a user should read it: `stale` when the definition's version changed,
 * `running`/`rebuilding` only while the process doing it still reports in.
 */
export function describeProjection(
  name: string,
  definition: ProjectionDefinition | undefined,
  record: ProjectionRecord | null,
  head: number,
  now: number,
  parked = 0,
): ProjectionStatusView {
  const checkpoint = record?.checkpoint ?? 0;
  const rebuilding = record?.rebuild && now - record.rebuild.heartbeatAt < HEARTBEAT_TIMEOUT_MS ? record.rebuild : null;
  let status: ProjectionStatus = record?.status ?? 'idle';
  if (status === 'running' && record && now - record.heartbeatAt >= HEARTBEAT_TIMEOUT_MS) {
    // The runner is gone: show the status before it. A commit past a failure clears the error,
    // so an error still after the checkpoint means the run never got past it.
    const unpassed = record.lastError !== null && (record.errorPosition === null || record.errorPosition > checkpoint);
    status = unpassed ? 'failed' : 'idle';
  }
  if (definition && record && record.version !== definition.version) status = 'stale';
  else if (status === 'stale') status = 'idle';
  if (rebuilding) status = 'rebuilding';
  return {
    name,
    version: definition?.version ?? null,
    storedVersion: record?.version ?? null,
    status,
    checkpoint,
    head,
    lag: Math.max(0, head - checkpoint),
    keys: record?.keys ?? 0,
    lastError: record?.lastError ? { message: record.lastError, position: record.errorPosition } : null,
    rebuild: rebuilding ? { checkpoint: rebuilding.checkpoint } : null,
    parked,
  };
}
