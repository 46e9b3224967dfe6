import type { Database } from 'better-sqlite3';
import { EvlogError } from '../../errors.js';
import type {
  NewDeadLetter,
  ProjectionCommit,
  ProjectionRecord,
  ProjectionSnapshot,
  RebuildResolution,
} from '../types.js';

type ProjectionRow = [
  string,
  number,
  number,
  number,
  string,
  string | null,
  number | null,
  number,
  number | null,
  number | null,
  number | null,
  number | null,
  number,
];

const SELECT_PROJECTION = `SELECT p.name, p.version, p.generation, p.checkpoint, p.status, p.error, p.error_position,
  p.heartbeat_at, p.rebuild_generation, p.rebuild_version, p.rebuild_checkpoint, p.rebuild_heartbeat_at,
  (SELECT count(*) FROM projection_states s WHERE s.name = p.name AND s.generation = p.generation)
FROM projections p`;

function toRecord(row: ProjectionRow): ProjectionRecord {
  return {
    name: row[0],
    version: row[1],
    generation: row[2],
    checkpoint: row[3],
    status: row[4] as ProjectionRecord['status'],
    lastError: row[5],
    errorPosition: row[6],
    heartbeatAt: row[7],
    rebuild:
      row[8] === null
        ? null
        : { generation: row[8], version: row[9] ?? 0, checkpoint: row[10] ?? 0, heartbeatAt: row[11] ?? 0 },
    keys: row[12],
  };
}

/**
 * The projections' read models: a row per projection, states per (name, generation, key),
 * snapshots per (name, version, position). A rebuild writes a fresh generation and swaps it
 * in with one UPDATE, so readers (who read the current generation in one statement) see the
 * old model or the new one, never a mix.
 */
export function createProjectionTables(
  db: Database,
  clock: () => number,
  park: (entries: readonly NewDeadLetter[]) => number[],
  finishRedrive: (id: number, owner: string, note: string | undefined) => boolean,
  resolveDeadLetters: (ids: readonly number[], note: string) => number[],
) {
  const selectOne = db.prepare(`${SELECT_PROJECTION} WHERE p.name = ?`).raw();
  const selectCheckpoint = db
    .prepare(
      'SELECT generation, checkpoint, rebuild_generation, rebuild_checkpoint, rebuild_version FROM projections WHERE name = ?',
    )
    .raw();
  const selectAll = db.prepare(`${SELECT_PROJECTION} ORDER BY p.name`).raw();
  const insertProjection = db.prepare(
    `INSERT INTO projections (name, version, generation, checkpoint, status, heartbeat_at)
     VALUES (?, ?, 1, 0, 'idle', ?) ON CONFLICT (name) DO NOTHING`,
  );
  const updateStatus = db.prepare('UPDATE projections SET status = ?, heartbeat_at = ? WHERE name = ?');
  const currentState = db
    .prepare(
      'SELECT key, state FROM projection_states WHERE name = ? AND generation = (SELECT generation FROM projections WHERE name = ?) ORDER BY key',
    )
    .raw();
  const currentStateOfKey = db
    .prepare(
      'SELECT key, state FROM projection_states WHERE name = ? AND key = ? AND generation = (SELECT generation FROM projections WHERE name = ?)',
    )
    .raw();
  const stateOfGeneration = db
    .prepare('SELECT key, state FROM projection_states WHERE name = ? AND generation = ? AND key = ?')
    .raw();
  const upsertState = db.prepare(
    `INSERT INTO projection_states (name, generation, key, state) VALUES (?, ?, ?, ?)
     ON CONFLICT (name, generation, key) DO UPDATE SET state = excluded.state`,
  );
  const moveCheckpoint = db.prepare(
    `UPDATE projections SET checkpoint = ?, status = CASE WHEN status = 'failed' THEN 'running' ELSE status END,
     error = NULL, error_position = NULL, heartbeat_at = ? WHERE name = ?`,
  );
  const markFailed = db.prepare(
    `UPDATE projections SET checkpoint = ?, status = 'failed', error = ?, error_position = ?, heartbeat_at = ? WHERE name = ?`,
  );
  const moveRebuildCheckpoint = db.prepare(
    'UPDATE projections SET rebuild_checkpoint = ?, rebuild_heartbeat_at = ? WHERE name = ?',
  );
  const insertSnapshot = db.prepare(
    `INSERT OR REPLACE INTO projection_snapshots (name, version, position, states, created_at)
     SELECT @name, @version, @position, (SELECT coalesce(json_group_object(key, json(state)), '{}') FROM
       (SELECT key, state FROM projection_states WHERE name = @name AND generation = @generation ORDER BY key)), @now`,
  );
  const insertGivenSnapshot = db.prepare(
    'INSERT OR REPLACE INTO projection_snapshots (name, version, position, states, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const nearestSnapshot = db
    .prepare(
      'SELECT position, states FROM projection_snapshots WHERE name = ? AND version = ? AND position <= ? ORDER BY position DESC LIMIT 1',
    )
    .raw();
  const maxGeneration = db
    .prepare(
      'SELECT max(coalesce(rebuild_generation, 0), generation, (SELECT coalesce(max(generation), 0) FROM projection_states WHERE name = @name)) FROM projections WHERE name = @name',
    )
    .pluck();
  const deleteOtherGenerations = db.prepare('DELETE FROM projection_states WHERE name = ? AND generation <> ?');
  const deleteGeneration = db.prepare('DELETE FROM projection_states WHERE name = ? AND generation = ?');
  const startRebuild = db.prepare(
    `UPDATE projections SET rebuild_generation = ?, rebuild_version = ?, rebuild_checkpoint = 0, rebuild_heartbeat_at = ?
     WHERE name = ?`,
  );
  const clearRebuild = db.prepare(
    `UPDATE projections SET rebuild_generation = NULL, rebuild_version = NULL, rebuild_checkpoint = NULL,
     rebuild_heartbeat_at = NULL WHERE name = ?`,
  );
  const swapIn = db.prepare(
    `UPDATE projections SET generation = rebuild_generation, version = rebuild_version, checkpoint = rebuild_checkpoint,
     status = 'idle', error = NULL, error_position = NULL, heartbeat_at = ?, rebuild_generation = NULL,
     rebuild_version = NULL, rebuild_checkpoint = NULL, rebuild_heartbeat_at = NULL WHERE name = ?`,
  );
  const deleteOtherSnapshots = db.prepare('DELETE FROM projection_snapshots WHERE name = ? AND version <> ?');
  const deleteSnapshots = db.prepare('DELETE FROM projection_snapshots WHERE name = ?');

  function readProjection(name: string): ProjectionRecord | null {
    const row = selectOne.get(name) as ProjectionRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** What a commit checks, without counting keys (readProjection does, and would cost O(keys) per batch). */
  function checkpointOf(name: string): Pick<ProjectionRecord, 'generation' | 'checkpoint' | 'rebuild'> {
    const row = selectCheckpoint.get(name) as [number, number, number | null, number | null, number | null] | undefined;
    if (!row) throw new EvlogError('not_found', `projection "${name}" has no read model in the store yet`);
    return {
      generation: row[0],
      checkpoint: row[1],
      rebuild:
        row[2] === null ? null : { generation: row[2], version: row[4] ?? 0, checkpoint: row[3] ?? 0, heartbeatAt: 0 },
    };
  }

  function required(name: string): ProjectionRecord {
    const record = readProjection(name);
    if (!record) throw new EvlogError('not_found', `projection "${name}" has no read model in the store yet`);
    return record;
  }

  const createProjection = db.transaction((name: string, version: number): ProjectionRecord => {
    insertProjection.run(name, version, clock());
    return required(name);
  });

  /** A redrive's states: the current generation, the checkpoint untouched, the entry finished with them. */
  function commitRedrive(batch: ProjectionCommit, redrive: NonNullable<ProjectionCommit['redrive']>): void {
    const record = required(batch.name);
    const now = clock();
    if (record.generation !== batch.generation) {
      throw new EvlogError(
        'conflict',
        `projection "${batch.name}" was rebuilt meanwhile (generation ${record.generation}, this redrive read ${batch.generation})`,
        { hint: `redrive dead letter ${redrive.id} again` },
      );
    }
    const running = record.status === 'running' && now - record.heartbeatAt < redrive.quietForMs;
    const rebuilding = record.rebuild !== null && now - record.rebuild.heartbeatAt < redrive.quietForMs;
    if (running || rebuilding) {
      throw new EvlogError(
        'conflict',
        `projection "${batch.name}" is ${rebuilding ? 'being rebuilt' : 'being run'} by another process; its states would write over this redrive's`,
        { hint: `redrive when it is done (or stop \`evlog projection run -f\`), then run it again` },
      );
    }
    for (const [key, state] of batch.states) upsertState.run(batch.name, batch.generation, key, state);
    if (!finishRedrive(redrive.id, redrive.owner, redrive.note)) {
      throw new EvlogError('conflict', `dead letter ${redrive.id} is no longer claimed by this redrive`, {
        hint: 'another redrive or a discard took it over; the state was not changed',
      });
    }
  }

  const commit = db.transaction((batch: ProjectionCommit) => {
    if (batch.redrive) return commitRedrive(batch, batch.redrive);
    const record = checkpointOf(batch.name);
    const now = clock();
    if (batch.rebuild) {
      if (record.rebuild?.generation !== batch.generation || record.rebuild.checkpoint !== batch.from) {
        throw new EvlogError(
          'conflict',
          `the rebuild of projection "${batch.name}" was taken over by another process (generation ${
            record.rebuild?.generation ?? 'none'
          }, checkpoint ${record.rebuild?.checkpoint ?? 'none'}; this one wrote generation ${batch.generation} at ${batch.from})`,
          { hint: 'the other rebuild carries on; the read model in use was not changed' },
        );
      }
    } else if (record.generation !== batch.generation || record.checkpoint !== batch.from) {
      throw new EvlogError(
        'conflict',
        `projection "${batch.name}" moved on in another process (checkpoint ${record.checkpoint}, generation ${record.generation}; this run expected ${batch.from}, generation ${batch.generation})`,
        { hint: 'another `evlog projection run` or rebuild is working on it; nothing was applied twice' },
      );
    }
    for (const [key, state] of batch.states) upsertState.run(batch.name, batch.generation, key, state);
    if (batch.deadLetters?.length) park(batch.deadLetters);
    if (batch.rebuild) moveRebuildCheckpoint.run(batch.to, now, batch.name);
    else if (batch.failure) markFailed.run(batch.to, batch.failure.error, batch.failure.position, now, batch.name);
    else moveCheckpoint.run(batch.to, now, batch.name);
    if (batch.snapshotVersion !== undefined && batch.snapshotJson !== undefined) {
      insertGivenSnapshot.run(batch.name, batch.snapshotVersion, batch.to, batch.snapshotJson, now);
    } else if (batch.snapshotVersion !== undefined) {
      insertSnapshot.run({
        name: batch.name,
        version: batch.snapshotVersion,
        position: batch.to,
        generation: batch.generation,
        now,
      });
    }
  });

  const beginRebuild = db.transaction((name: string, version: number): number => {
    insertProjection.run(name, version, clock());
    const record = checkpointOf(name);
    // Leftovers of an interrupted rebuild go; the generation readers see stays.
    deleteOtherGenerations.run(name, record.generation);
    // A rebuild is how changed reducer code takes effect: snapshots made by the code before it
    // must not answer replays any more (even at the same version). The rebuild writes its own.
    deleteSnapshots.run(name);
    const generation = (maxGeneration.get({ name }) as number) + 1;
    startRebuild.run(generation, version, clock(), name);
    return generation;
  });

  const swap = db.transaction(
    (name: string, generation: number, states: Iterable<[string, string]>, resolved?: RebuildResolution): number => {
      const record = checkpointOf(name);
      if (record.rebuild?.generation !== generation) {
        throw new EvlogError('conflict', `the rebuild of projection "${name}" was taken over by another process`);
      }
      for (const [key, state] of states) upsertState.run(name, generation, key, state);
      swapIn.run(clock(), name);
      // The new read model holds these events: their entries must not be redriven into it again.
      if (resolved?.ids.length) resolveDeadLetters(resolved.ids, resolved.note);
      deleteOtherSnapshots.run(name, record.rebuild.version);
      return record.generation;
    },
  );

  const abandon = db.transaction((name: string, generation: number) => {
    const record = readProjection(name);
    if (record?.rebuild?.generation !== generation) return;
    clearRebuild.run(name);
    deleteGeneration.run(name, generation);
  });

  return {
    readProjection,
    listProjections(): ProjectionRecord[] {
      return (selectAll.all() as ProjectionRow[]).map(toRecord);
    },
    createProjection(name: string, version: number): ProjectionRecord {
      return createProjection.immediate(name, version);
    },
    setProjectionStatus(name: string, status: 'idle' | 'running' | 'stale'): void {
      updateStatus.run(status, clock(), name);
    },
    commitProjection(batch: ProjectionCommit): void {
      commit.immediate(batch);
    },
    readProjectionStates(name: string, options: { generation?: number; keys?: readonly string[] }): [string, string][] {
      if (options.generation === undefined) {
        if (options.keys === undefined) return currentState.all(name, name) as [string, string][];
        return options.keys.flatMap((key) => currentStateOfKey.all(name, key, name) as [string, string][]);
      }
      const generation = options.generation;
      if (options.keys === undefined) {
        throw new EvlogError('failure', 'reading a generation other than the current one needs keys');
      }
      const found: [string, string][] = [];
      for (const key of options.keys) {
        const row = stateOfGeneration.get(name, generation, key) as [string, string] | undefined;
        if (row) found.push(row);
      }
      return found;
    },
    beginProjectionRebuild(name: string, version: number): number {
      return beginRebuild.immediate(name, version);
    },
    finishProjectionRebuild(
      name: string,
      generation: number,
      states: Iterable<[string, string]>,
      resolved?: RebuildResolution,
    ): void {
      const old = swap.immediate(name, generation, states, resolved);
      // After the swap, in its own transaction: readers already see the new generation.
      db.transaction(() => deleteGeneration.run(name, old)).immediate();
    },
    abandonProjectionRebuild(name: string, generation: number): void {
      abandon.immediate(name, generation);
    },
    readProjectionSnapshot(name: string, version: number, atOrBefore: number): ProjectionSnapshot | null {
      const row = nearestSnapshot.get(name, version, atOrBefore) as [number, string] | undefined;
      return row ? { name, version, position: row[0], statesJson: row[1] } : null;
    },
  };
}
