import type { Database, Statement } from 'better-sqlite3';
import type {
  DeadLetter,
  DeadLetterFilter,
  DeadLetterHistoryEntry,
  DeadLetterPage,
  DeadLetterWithHistory,
  LineDefaults,
  NewDeadLetter,
  RedriveResult,
} from '../types.js';

const COLUMNS = `id, source, grp, position, topic, type, line, reason, error, attempts, status, first_failed_at, last_failed_at,
  line_defaults`;

type DeadLetterRow = [
  number,
  DeadLetter['source'],
  string,
  number | null,
  string | null,
  string | null,
  string | null,
  DeadLetter['reason'],
  string,
  number,
  DeadLetter['status'],
  number,
  number,
  string | null,
];

function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row[0],
    source: row[1],
    group: row[2],
    position: row[3],
    topic: row[4],
    type: row[5],
    line: row[6],
    reason: row[7],
    error: row[8],
    attempts: row[9],
    status: row[10],
    firstFailedAt: row[11],
    lastFailedAt: row[12],
    lineDefaults: row[13] === null ? null : (JSON.parse(row[13]) as LineDefaults),
  };
}

/** A parked line's defaults as stored: null when it has none. */
function defaultsJson(defaults: LineDefaults | null | undefined): string | null {
  const json = defaults ? JSON.stringify(defaults) : '{}';
  return json === '{}' ? null : json;
}

/** The WHERE clause and its parameters for a filter (values are always bound, never spliced). */
function whereClause(filter: DeadLetterFilter): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => {
    conditions.push(condition);
    params.push(...values);
  };
  if (filter.ids !== undefined) add(`id IN (SELECT value FROM json_each(?))`, JSON.stringify(filter.ids));
  if (filter.maxId !== undefined) add('id <= ?', filter.maxId);
  if (filter.group !== undefined) add('grp = ?', filter.group);
  if (filter.source !== undefined) add('source = ?', filter.source);
  if (filter.status !== undefined) add('status = ?', filter.status);
  if (filter.type !== undefined) add('type = ?', filter.type);
  if (filter.reason !== undefined) add('reason = ?', filter.reason);
  if (filter.since !== undefined) add('last_failed_at >= ?', filter.since);
  if (filter.until !== undefined) add('last_failed_at <= ?', filter.until);
  if (filter.text !== undefined && filter.text !== '') {
    add(
      `instr(lower(grp || ' ' || coalesce(type, '') || ' ' || reason || ' ' || error || ' ' || coalesce(line, '')), ?) > 0`,
      filter.text.toLowerCase(),
    );
  }
  return { sql: conditions.length ? conditions.join(' AND ') : '1', params };
}

/**
 * The dead-letter queue: parking, paged listing by id, and the claim → finish cycle of a
 * redrive. A claim (owner, until) marks an entry a redrive is delivering right now; other
 * redrives and discards leave it alone until it is finished, released or expired.
 */
export function createDeadLetters(db: Database, clock: () => number) {
  const insert = db.prepare(
    `INSERT INTO dead_letters (source, grp, position, topic, type, line, line_defaults, reason, error, attempts,
       status, first_failed_at, last_failed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'parked', ?, ?)`,
  );
  const selectOne = db.prepare(`SELECT ${COLUMNS} FROM dead_letters WHERE id = ?`).raw();
  const selectHistory = db
    .prepare('SELECT at, action, error, position, note FROM dead_letter_history WHERE dead_letter_id = ? ORDER BY seq')
    .raw();
  const insertHistory = db.prepare(
    `INSERT INTO dead_letter_history (dead_letter_id, seq, at, action, error, position, note)
     VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM dead_letter_history WHERE dead_letter_id = ?), ?, ?, ?, ?, ?)`,
  );
  const claim = db.prepare(
    `UPDATE dead_letters SET claim_owner = ?, claimed_until = ?
     WHERE id = ? AND status = 'parked' AND (claim_owner IS NULL OR claim_owner = ? OR claimed_until < ?)`,
  );
  const markRedriven = db.prepare(
    `UPDATE dead_letters SET status = 'redriven', claim_owner = NULL, claimed_until = NULL
     WHERE id = ? AND claim_owner = ? AND status = 'parked'`,
  );
  // Claimed or not: a redrive in flight is refused at its commit anyway (the generation changed).
  const markResolved = db.prepare(
    `UPDATE dead_letters SET status = 'redriven', claim_owner = NULL, claimed_until = NULL
     WHERE id = ? AND status = 'parked'`,
  );
  const markFailedAgain = db.prepare(
    `UPDATE dead_letters SET attempts = attempts + 1, error = ?, reason = coalesce(?, reason), last_failed_at = ?,
       claim_owner = NULL, claimed_until = NULL
     WHERE id = ? AND claim_owner = ? AND status = 'parked'`,
  );
  const release = db.prepare(
    'UPDATE dead_letters SET claim_owner = NULL, claimed_until = NULL WHERE id = ? AND claim_owner = ?',
  );
  const discard = db.prepare(
    `UPDATE dead_letters SET status = 'discarded'
     WHERE id = ? AND status = 'parked' AND (claim_owner IS NULL OR claimed_until < ?)`,
  );
  const pages = new Map<string, Statement>();

  function cached(sql: string): Statement {
    let statement = pages.get(sql);
    if (!statement) {
      statement = db.prepare(sql).raw();
      pages.set(sql, statement);
    }
    return statement;
  }

  /** Parks entries inside the caller's transaction. */
  function park(entries: readonly NewDeadLetter[]): number[] {
    const now = clock();
    return entries.map((entry) => {
      const info = insert.run(
        entry.source,
        entry.group,
        entry.position,
        entry.topic,
        entry.type,
        entry.line,
        defaultsJson(entry.lineDefaults),
        entry.reason,
        entry.error,
        entry.attempts,
        entry.firstFailedAt ?? now,
        now,
      );
      return Number(info.lastInsertRowid);
    });
  }

  const parkAll = db.transaction(park);

  const claimAll = db.transaction((ids: readonly number[], owner: string, until: number): DeadLetter[] => {
    const now = clock();
    const claimed: DeadLetter[] = [];
    for (const id of ids) {
      if (claim.run(owner, until, id, owner, now).changes === 0) continue;
      claimed.push(toDeadLetter(selectOne.get(id) as DeadLetterRow));
    }
    return claimed;
  });

  /** Records a redrive's result inside the caller's transaction; false when the claim was lost. */
  function finish(id: number, owner: string, result: RedriveResult, position: number | null): boolean {
    const now = clock();
    if (result.ok) {
      if (markRedriven.run(id, owner).changes === 0) return false;
      insertHistory.run(id, id, now, 'redriven', null, position, result.note ?? null);
    } else {
      if (markFailedAgain.run(result.error, result.reason ?? null, now, id, owner).changes === 0) return false;
      insertHistory.run(id, id, now, 'failed', result.error, null, null);
    }
    return true;
  }

  /**
   * Marks parked entries redriven without a redrive, inside the caller's transaction: their
   * event was applied otherwise (a rebuild), as `note` says. Entries no longer parked are left
   * as they are; returns the ids marked.
   */
  function resolve(ids: readonly number[], note: string): number[] {
    const now = clock();
    return ids.filter((id) => {
      if (markResolved.run(id).changes === 0) return false;
      insertHistory.run(id, id, now, 'redriven', null, null, note);
      return true;
    });
  }

  const releaseAll = db.transaction((ids: readonly number[], owner: string) => {
    for (const id of ids) release.run(id, owner);
  });

  const discardAll = db.transaction((ids: readonly number[]): number[] => {
    const now = clock();
    const discarded: number[] = [];
    for (const id of ids) {
      if (discard.run(id, now).changes === 0) continue;
      insertHistory.run(id, id, now, 'discarded', null, null, null);
      discarded.push(id);
    }
    return discarded;
  });

  return {
    park,
    finish,
    resolve,
    parkDeadLetters(entries: NewDeadLetter[]): number[] {
      return parkAll.immediate(entries);
    },
    listDeadLetters(filter: DeadLetterFilter, page: DeadLetterPage): DeadLetter[] {
      const { sql, params } = whereClause(filter);
      const descending = page.beforeId !== undefined;
      const bound = descending ? ' AND id < ?' : page.afterId !== undefined ? ' AND id > ?' : '';
      const statement = cached(
        `SELECT ${COLUMNS} FROM dead_letters WHERE ${sql}${bound} ORDER BY id ${descending ? 'DESC' : 'ASC'} LIMIT ?`,
      );
      const boundValue = descending ? [page.beforeId] : page.afterId !== undefined ? [page.afterId] : [];
      return (statement.all(...params, ...boundValue, page.limit) as DeadLetterRow[]).map(toDeadLetter);
    },
    countDeadLetters(filter: DeadLetterFilter): number {
      const { sql, params } = whereClause(filter);
      return (cached(`SELECT count(*) FROM dead_letters WHERE ${sql}`).get(...params) as [number])[0];
    },
    readDeadLetter(id: number): DeadLetterWithHistory | null {
      const row = selectOne.get(id) as DeadLetterRow | undefined;
      if (!row) return null;
      const history = (
        selectHistory.all(id) as [
          number,
          DeadLetterHistoryEntry['action'],
          string | null,
          number | null,
          string | null,
        ][]
      ).map(([at, action, error, position, note]) => ({ at, action, error, position, note }));
      return { ...toDeadLetter(row), history };
    },
    claimDeadLetters(ids: readonly number[], owner: string, until: number): DeadLetter[] {
      return claimAll.immediate(ids, owner, until);
    },
    releaseDeadLetterClaims(ids: readonly number[], owner: string): void {
      releaseAll.immediate(ids, owner);
    },
    discardDeadLetters(ids: readonly number[]): number[] {
      return discardAll.immediate(ids);
    },
  };
}
