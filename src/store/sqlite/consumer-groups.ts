import type { Database } from 'better-sqlite3';
import { EvlogError } from '../../errors.js';
import type { ConsumerGroupRecord, ConsumerGroupSummary, LeaseResult, NewDeadLetter } from '../types.js';

const COLUMNS = 'name, topic, handler, checkpoint, lease_owner, lease_expires_at, created_at, updated_at';

type GroupRow = [string, string, string, number, string | null, number | null, number, number];

function toRecord(row: GroupRow): ConsumerGroupRecord {
  return {
    name: row[0],
    topic: row[1],
    handlerJson: row[2],
    checkpoint: row[3],
    leaseOwner: row[4],
    leaseExpiresAt: row[5],
    createdAt: row[6],
    updatedAt: row[7],
  };
}

/**
 * Consumer groups: a row per group with its checkpoint and lease. The lease is how two
 * processes running one group take turns: only its holder delivers, and a checkpoint moves
 * only in a transaction that finds the lease still the mover's (a fence), so a process that
 * stalled past its lease and lost it can never move the checkpoint of the one that took over.
 */
export function createConsumerGroups(
  db: Database,
  clock: () => number,
  park: (entries: readonly NewDeadLetter[]) => number[],
) {
  const selectOne = db.prepare(`SELECT ${COLUMNS} FROM consumer_groups WHERE name = ?`).raw();
  const selectAll = db
    .prepare(
      `SELECT ${COLUMNS},
         (SELECT count(*) FROM events e WHERE e.topic_id = (SELECT topic_id FROM topics t WHERE t.name = g.topic)
            AND e.position > g.checkpoint),
         (SELECT count(*) FROM dead_letters d WHERE d.grp = g.name AND d.status = 'parked' AND d.source = 'consumer')
       FROM consumer_groups g ORDER BY name`,
    )
    .raw();
  const insert = db.prepare(
    `INSERT INTO consumer_groups (name, topic, handler, checkpoint, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?)`,
  );
  const updateHandler = db.prepare('UPDATE consumer_groups SET handler = ?, topic = ?, updated_at = ? WHERE name = ?');
  const takeLease = db.prepare(
    `UPDATE consumer_groups SET lease_owner = @owner, lease_expires_at = @until
     WHERE name = @name AND (lease_owner IS NULL OR lease_owner = @owner OR lease_expires_at < @now
       OR lease_owner = @takeOverFrom)`,
  );
  const renew = db.prepare('UPDATE consumer_groups SET lease_expires_at = ? WHERE name = ? AND lease_owner = ?');
  const release = db.prepare(
    'UPDATE consumer_groups SET lease_owner = NULL, lease_expires_at = NULL WHERE name = ? AND lease_owner = ?',
  );
  const moveCheckpoint = db.prepare(
    `UPDATE consumer_groups SET checkpoint = @position, updated_at = @now,
       lease_expires_at = coalesce(@until, lease_expires_at)
     WHERE name = @name AND lease_owner = @owner AND checkpoint < @position`,
  );

  function read(name: string): ConsumerGroupRecord | null {
    const row = selectOne.get(name) as GroupRow | undefined;
    return row ? toRecord(row) : null;
  }

  const save = db.transaction(
    (name: string, topic: string, handlerJson: string | null, owner: string | undefined): ConsumerGroupRecord => {
      const now = clock();
      const existing = read(name);
      if (!existing) {
        if (handlerJson === null) {
          throw new EvlogError('not_found', `consumer group "${name}" has no handler yet`, {
            hint: 'give it one with --exec <command> or --handler <module>',
          });
        }
        insert.run(name, topic, handlerJson, now, now);
        return read(name) as ConsumerGroupRecord;
      }
      const changed = (handlerJson !== null && handlerJson !== existing.handlerJson) || existing.topic !== topic;
      if (!changed) return existing;
      const heldByOther =
        existing.leaseOwner !== null && existing.leaseOwner !== owner && (existing.leaseExpiresAt ?? 0) >= now;
      if (heldByOther) {
        throw new EvlogError(
          'conflict',
          `consumer group "${name}" is being consumed by another process; its settings were left as they are`,
          { hint: 'stop the other process first, or run this one with --follow to take over when it stops' },
        );
      }
      if (existing.topic !== topic && existing.checkpoint > 0) {
        throw new EvlogError(
          'conflict',
          `consumer group "${name}" consumes topic "${existing.topic}", not "${topic}"`,
          {
            hint: 'its checkpoint counts positions of that topic: use another group name for another topic',
          },
        );
      }
      updateHandler.run(handlerJson ?? existing.handlerJson, topic, now, name);
      return read(name) as ConsumerGroupRecord;
    },
  );

  const acquire = db.transaction((name: string, owner: string, ttlMs: number, takeOverFrom?: string): LeaseResult => {
    const now = clock();
    const changed = takeLease.run({ name, owner, until: now + ttlMs, now, takeOverFrom: takeOverFrom ?? null }).changes;
    const group = read(name);
    if (!group) throw new EvlogError('not_found', `no consumer group "${name}"`);
    if (changed > 0) return { acquired: true, group };
    return { acquired: false, holder: group.leaseOwner ?? '', expiresAt: group.leaseExpiresAt ?? 0 };
  });

  /** Why a checkpoint did not move: lease lost (conflict), or already there (a repeated commit: fine). */
  function explainUnmoved(name: string, owner: string): void {
    const group = read(name);
    if (!group) throw new EvlogError('not_found', `no consumer group "${name}"`);
    if (group.leaseOwner !== owner) {
      throw new EvlogError('conflict', `consumer group "${name}" was taken over by another process`, {
        hint: 'this process stalled past its lease; the other one carries on from the checkpoint',
      });
    }
  }

  function move(name: string, owner: string, position: number, ttlMs: number | undefined): boolean {
    const now = clock();
    const until = ttlMs === undefined ? null : now + ttlMs;
    return moveCheckpoint.run({ name, owner, position, now, until }).changes > 0;
  }

  const commitWithDeadLetter = db.transaction(
    (name: string, owner: string, position: number, deadLetter: NewDeadLetter, ttlMs: number | undefined) => {
      if (move(name, owner, position, ttlMs)) park([deadLetter]);
      else explainUnmoved(name, owner);
    },
  );

  return {
    saveConsumerGroup(name: string, topic: string, handlerJson: string | null, owner?: string): ConsumerGroupRecord {
      return save.immediate(name, topic, handlerJson, owner);
    },
    readConsumerGroup: read,
    listConsumerGroups(): ConsumerGroupSummary[] {
      return (selectAll.all() as [...GroupRow, number, number][]).map((row) => ({
        ...toRecord(row.slice(0, 8) as GroupRow),
        lag: row[8],
        parked: row[9],
      }));
    },
    acquireGroupLease(name: string, owner: string, ttlMs: number, takeOverFrom?: string): LeaseResult {
      return acquire.immediate(name, owner, ttlMs, takeOverFrom);
    },
    renewGroupLease(name: string, owner: string, ttlMs: number): boolean {
      return renew.run(clock() + ttlMs, name, owner).changes > 0;
    },
    releaseGroupLease(name: string, owner: string): void {
      release.run(name, owner);
    },
    commitConsumerCheckpoint(
      name: string,
      owner: string,
      position: number,
      options: { deadLetter?: NewDeadLetter; leaseTtlMs?: number } = {},
    ): void {
      if (options.deadLetter) {
        commitWithDeadLetter.immediate(name, owner, position, options.deadLetter, options.leaseTtlMs);
        return;
      }
      // One statement is its own transaction: the common case (an event that succeeded) costs
      // one write, with no BEGIN and COMMIT around it.
      if (!move(name, owner, position, options.leaseTtlMs)) explainUnmoved(name, owner);
    },
  };
}
