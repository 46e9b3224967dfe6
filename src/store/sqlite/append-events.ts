import type { Database, Statement } from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { EvlogError } from '../../errors.js';
import { formatStreamName } from '../stream-name.js';
import type { AppendOptions, AppendResult, ExpectedVersion, NewEvent } from '../types.js';
import { type PreparedEvent, prepareEvent } from '../validate-event.js';
import { storedEventId } from './event-id.js';

/** How far in the future an imported time may be: clocks of two machines disagree a little. */
const FUTURE_TIME_ALLOWANCE_MS = 60_000;

interface StreamState {
  streamId: number;
  version: number;
  lastPosition: number;
  changed: boolean;
}

/** What one append transaction has seen and changed so far; flushed before commit. */
export interface AppendTransaction {
  position: number;
  time: number;
  eventIndex: number;
  streams: Map<string, StreamState>;
  results: AppendResult[];
}

export interface AppenderOptions {
  maxEventBytes: number;
  clock: () => number;
}

/** Appends inside a transaction the caller holds: positions are head + 1, gap-free. */
export function createAppender(db: Database, options: AppenderOptions) {
  const headRow = db.prepare('SELECT position, time FROM events ORDER BY position DESC LIMIT 1').raw();
  const selectTopicId = db.prepare('SELECT topic_id FROM topics WHERE name = ?').pluck();
  const insertTopic = db.prepare('INSERT INTO topics (name) VALUES (?)');
  const selectTypeId = db.prepare('SELECT type_id FROM event_types WHERE name = ?').pluck();
  const insertType = db.prepare('INSERT INTO event_types (name) VALUES (?)');
  const selectStream = db
    .prepare('SELECT stream_id, version, last_position FROM streams WHERE topic_id = ? AND key = ?')
    .raw();
  const insertStream = db.prepare('INSERT INTO streams (topic_id, key, version, last_position) VALUES (?, ?, 0, 0)');
  const updateStream = db.prepare('UPDATE streams SET version = ?, last_position = ? WHERE stream_id = ?');
  const selectById = db
    .prepare(
      `SELECT e.position, e.version, t.name, s.key, y.name, e.data, e.metadata
       FROM events e
       JOIN streams s ON s.stream_id = e.stream_id
       JOIN topics t ON t.topic_id = e.topic_id
       JOIN event_types y ON y.type_id = e.type_id
       WHERE e.id = ?`,
    )
    .raw();
  const insertEvent = db.prepare(
    `INSERT INTO events (position, id, stream_id, version, topic_id, type_id, schema_version, time, data, metadata)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );

  // Names never change their id once committed, so ids seen in committed transactions are
  // cached for good; ids created by the open transaction wait for its commit.
  const topicIds = new Map<string, number>();
  const typeIds = new Map<string, number>();
  const pendingTopicIds = new Map<string, number>();
  const pendingTypeIds = new Map<string, number>();

  function nameId(
    name: string,
    committed: Map<string, number>,
    pending: Map<string, number>,
    select: Statement,
    insert: Statement,
  ): number {
    const known = committed.get(name) ?? pending.get(name);
    if (known !== undefined) return known;
    const found = select.get(name) as number | undefined;
    if (found !== undefined) {
      committed.set(name, found);
      return found;
    }
    const created = Number(insert.run(name).lastInsertRowid);
    pending.set(name, created);
    return created;
  }

  function begin(): AppendTransaction {
    const head = headRow.get() as [number, number] | undefined;
    pendingTopicIds.clear();
    pendingTypeIds.clear();
    return { position: head?.[0] ?? 0, time: head?.[1] ?? 0, eventIndex: 0, streams: new Map(), results: [] };
  }

  function streamState(tx: AppendTransaction, topicId: number, key: string): StreamState {
    const cacheKey = `${topicId}\u0000${key}`;
    let state = tx.streams.get(cacheKey);
    if (state) return state;
    const row = selectStream.get(topicId, key) as [number, number, number] | undefined;
    state = row
      ? { streamId: row[0], version: row[1], lastPosition: row[2], changed: false }
      : {
          streamId: Number(insertStream.run(topicId, key).lastInsertRowid),
          version: 0,
          lastPosition: 0,
          changed: true,
        };
    tx.streams.set(cacheKey, state);
    return state;
  }

  /** The original of a reused id, or a conflict if its content differs. */
  function findDuplicate(event: PreparedEvent, id: string): AppendResult | undefined {
    const row = selectById.get(storedEventId(id)) as
      | [number, number, string, string, string, string, string | null]
      | undefined;
    if (!row) return undefined;
    const [position, version, topic, key, type, dataJson, metadataJson] = row;
    const storedKey = key === '' ? null : key;
    const same =
      topic === event.topic &&
      storedKey === event.key &&
      type === event.type &&
      dataJson === event.dataJson &&
      metadataJson === event.metadataJson;
    if (!same) {
      throw new EvlogError('conflict', `event id "${id}" is already used by position ${position} with other content`, {
        hint: 'an id makes an append idempotent: reuse it only to retry the very same event',
      });
    }
    return { position, id, topic, key: storedKey, version, duplicate: true };
  }

  function appendOne(tx: AppendTransaction, event: PreparedEvent, preserveTime: boolean): AppendResult {
    const callerId = event.id;
    if (callerId !== undefined) {
      const duplicate = findDuplicate(event, callerId);
      if (duplicate) return duplicate;
    }
    const topicId = nameId(event.topic, topicIds, pendingTopicIds, selectTopicId, insertTopic);
    const typeId = nameId(event.type, typeIds, pendingTypeIds, selectTypeId, insertType);
    const stream = streamState(tx, topicId, event.key ?? '');
    checkExpectedVersion(event.expect, stream.version, event.topic, event.key);
    const position = tx.position + 1;
    const version = stream.version + 1;
    const now = options.clock();
    if (preserveTime && event.time !== undefined && event.time > now + FUTURE_TIME_ALLOWANCE_MS) {
      // Time never goes backwards, so one future time would stamp every later event with it.
      throw new EvlogError(
        'invalid',
        `recorded time ${new Date(event.time).toISOString()} is in the future (now ${new Date(now).toISOString()})`,
        { hint: "fix the source's clock or the time in the input; recorded times never go backwards" },
      );
    }
    const wanted = preserveTime && event.time !== undefined ? event.time : now;
    // Recorded time never goes backwards with position: a clock step back reuses the last time.
    const time = Math.max(wanted, tx.time);
    const id = callerId ?? uuidv7();
    insertEvent.run(
      position,
      storedEventId(id),
      stream.streamId,
      version,
      topicId,
      typeId,
      event.schemaVersion,
      time,
      event.dataJson,
      event.metadataJson,
    );
    tx.position = position;
    tx.time = time;
    stream.version = version;
    stream.lastPosition = position;
    stream.changed = true;
    return { position, id, topic: event.topic, key: event.key, version, duplicate: false };
  }

  /** Appends a batch inside the open transaction; errors name the event's index in the whole input. */
  function append(tx: AppendTransaction, events: NewEvent[], appendOptions: AppendOptions = {}): void {
    const preserveTime = appendOptions.preserveTime === true;
    for (const event of events) {
      try {
        tx.results.push(appendOne(tx, prepareEvent(event, options.maxEventBytes), preserveTime));
      } catch (error) {
        if (error instanceof EvlogError && error.eventIndex === undefined) {
          throw new EvlogError(error.code, error.message, {
            hint: error.hint,
            details: error.details,
            eventIndex: tx.eventIndex,
          });
        }
        throw error;
      }
      tx.eventIndex++;
    }
  }

  /** Writes the streams' new versions; call last, inside the transaction. */
  function finish(tx: AppendTransaction): AppendResult[] {
    for (const state of tx.streams.values()) {
      if (state.changed) updateStream.run(state.version, state.lastPosition, state.streamId);
    }
    return tx.results;
  }

  /** Call after the commit: names created by the transaction are now safe to cache. */
  function committed(): void {
    for (const [name, id] of pendingTopicIds) topicIds.set(name, id);
    for (const [name, id] of pendingTypeIds) typeIds.set(name, id);
  }

  function rolledBack(): void {
    pendingTopicIds.clear();
    pendingTypeIds.clear();
  }

  return { begin, append, finish, committed, rolledBack };
}

function checkExpectedVersion(expect: ExpectedVersion, current: number, topic: string, key: string | null): void {
  const ok =
    expect === 'any' ||
    (expect === 'none' && current === 0) ||
    (expect === 'exists' && current > 0) ||
    (typeof expect === 'number' && expect === current);
  if (ok) return;
  const stream = formatStreamName(topic, key);
  const wanted =
    typeof expect === 'number' ? `version ${expect}` : expect === 'none' ? 'no stream' : 'an existing stream';
  const found = current === 0 ? 'the stream does not exist' : `the stream is at version ${current}`;
  throw new EvlogError('conflict', `wrong expected version for ${stream}: expected ${wanted}, but ${found}`, {
    hint: 'read the stream again and retry, or append with --expect any',
  });
}
