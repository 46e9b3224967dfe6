import type { Database, Statement } from 'better-sqlite3';
import type { DataCondition, EventFilter, EventRecord, PageRequest } from '../types.js';
import { eventIdFromColumn, SELECT_EVENT_ID } from './event-id.js';

type EventRow = [number, string, number, number, number, number | null, number, string, string | null];

// No joins: names come from caches (below), which makes a full read about 1.7x faster.
const SELECT_EVENTS = `SELECT e.position, ${SELECT_EVENT_ID}, e.stream_id, e.version, e.type_id, e.schema_version, e.time, e.data, e.metadata
FROM events e`;

/** Reads pages of events with SQL shaped by the filter, using the index that fits it best. */
export function createReader(db: Database) {
  const statements = new Map<string, Statement>();
  const topicId = db.prepare('SELECT topic_id FROM topics WHERE name = ?').pluck();
  const typeId = db.prepare('SELECT type_id FROM event_types WHERE name = ?').pluck();
  const streamId = db.prepare('SELECT stream_id FROM streams WHERE topic_id = ? AND key = ?').pluck();
  const streamIdsByKey = db.prepare('SELECT stream_id FROM streams WHERE key = ?').pluck();
  const streamVersionAt = db.prepare('SELECT version FROM events WHERE position = ? AND stream_id = ?').pluck();
  const names = createNameCache(db);

  function prepared(sql: string): Statement {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql).raw();
      statements.set(sql, statement);
    }
    return statement;
  }

  function ids(select: Statement, names: readonly string[]): number[] {
    const found: number[] = [];
    for (const name of names) {
      const id = select.get(name) as number | undefined;
      if (id !== undefined) found.push(id);
    }
    return found;
  }

  function readEvents(filter: EventFilter, page: PageRequest): EventRecord[] {
    const forward = page.direction === 'forward';
    const where: string[] = [];
    const params: unknown[] = [];
    // The first condition that can use an index drives the scan; later ones are written as
    // +column so the planner filters on them instead of choosing an index that loses the order.
    let driven = false;
    let orderColumn = 'e.position';

    let streamIds: number[] | undefined;
    if (filter.stream) {
      const topic = topicId.get(filter.stream.topic) as number | undefined;
      const stream =
        topic === undefined ? undefined : (streamId.get(topic, filter.stream.key ?? '') as number | undefined);
      streamIds = stream === undefined ? [] : [stream];
    }
    if (filter.key !== undefined) {
      const byKey = streamIdsByKey.all(filter.key) as number[];
      streamIds = streamIds ? streamIds.filter((id) => byKey.includes(id)) : byKey;
    }
    const topicIds = filter.topics ? ids(topicId, filter.topics) : undefined;
    const typeIds = filter.types ? ids(typeId, filter.types) : undefined;
    if (streamIds?.length === 0 || topicIds?.length === 0 || typeIds?.length === 0) return [];

    if (streamIds?.length === 1) {
      // Inside one stream, version order is position order, and (stream_id, version) is indexed.
      const stream = streamIds[0] as number;
      where.push('e.stream_id = ?');
      params.push(stream);
      orderColumn = 'e.version';
      driven = true;
      if (page.after !== undefined) {
        const version = streamVersionAt.get(page.after, stream) as number | undefined;
        if (version !== undefined) {
          where.push(forward ? 'e.version > ?' : 'e.version < ?');
          params.push(version);
        }
      }
    } else if (streamIds) {
      where.push(`+e.stream_id IN (${placeholders(streamIds)})`);
      params.push(...streamIds);
    }
    if (topicIds) {
      const useIndex = !driven && topicIds.length === 1;
      where.push(`${useIndex ? '' : '+'}e.topic_id IN (${placeholders(topicIds)})`);
      params.push(...topicIds);
      driven ||= useIndex;
    }
    if (typeIds) {
      const useIndex = !driven && typeIds.length === 1;
      where.push(`${useIndex ? '' : '+'}e.type_id IN (${placeholders(typeIds)})`);
      params.push(...typeIds);
      driven ||= useIndex;
    }
    if (page.after !== undefined) {
      where.push(forward ? 'e.position > ?' : 'e.position < ?');
      params.push(page.after);
    }
    if (filter.fromPosition !== undefined) {
      where.push('e.position >= ?');
      params.push(filter.fromPosition);
    }
    if (filter.untilPosition !== undefined) {
      where.push('e.position <= ?');
      params.push(filter.untilPosition);
    }
    for (const condition of filter.where ?? []) {
      const [sql, values] = dataConditionSql(condition);
      where.push(sql);
      params.push(...values);
    }
    const sql = `${SELECT_EVENTS}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderColumn} ${forward ? 'ASC' : 'DESC'} LIMIT ?`;
    params.push(page.limit);
    const rows = prepared(sql).all(...params) as EventRow[];
    names.loadStreams(rows);
    const records: EventRecord[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as EventRow;
      const stream = names.stream(row[2]);
      records[i] = {
        position: row[0],
        id: eventIdFromColumn(row[1]),
        topic: stream.topic,
        key: stream.key,
        version: row[3],
        type: names.type(row[4]),
        schemaVersion: row[5],
        time: row[6],
        dataJson: row[7],
        metadataJson: row[8] ?? '{}',
      };
    }
    return records;
  }

  return { readEvents };
}

/**
 * Topic, type and stream names by id. Ids never change meaning once committed, so entries
 * never go stale; a miss (a name another process created since) reloads.
 */
function createNameCache(db: Database) {
  const allTopics = db.prepare('SELECT topic_id, name FROM topics').raw();
  const allTypes = db.prepare('SELECT type_id, name FROM event_types').raw();
  const streamsById = db
    .prepare('SELECT s.stream_id, s.topic_id, s.key FROM json_each(?) j JOIN streams s ON s.stream_id = j.value')
    .raw();
  const topics = new Map<number, string>();
  const types = new Map<number, string>();
  const streams = new Map<number, { topic: string; key: string | null }>();

  function topic(id: number): string {
    let name = topics.get(id);
    if (name === undefined) {
      for (const [topicId, topicName] of allTopics.all() as [number, string][]) topics.set(topicId, topicName);
      name = topics.get(id) as string;
    }
    return name;
  }

  return {
    type(id: number): string {
      let name = types.get(id);
      if (name === undefined) {
        for (const [typeId, typeName] of allTypes.all() as [number, string][]) types.set(typeId, typeName);
        name = types.get(id) as string;
      }
      return name;
    },
    /** Loads, in one query, the streams of a page that are not cached yet. */
    loadStreams(rows: readonly EventRow[]): void {
      const missing = new Set<number>();
      for (const row of rows) if (!streams.has(row[2])) missing.add(row[2]);
      if (missing.size === 0) return;
      for (const [streamId, topicId, key] of streamsById.all(JSON.stringify([...missing])) as [
        number,
        number,
        string,
      ][]) {
        streams.set(streamId, { topic: topic(topicId), key: key === '' ? null : key });
      }
    },
    stream(id: number): { topic: string; key: string | null } {
      return streams.get(id) as { topic: string; key: string | null };
    },
  };
}

function placeholders(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** `customer.id=42` matches the string "42" and the number 42; true, false and null match themselves. */
function dataConditionSql(condition: DataCondition): [string, unknown[]] {
  const path = jsonPath(condition.path);
  const value = condition.value;
  const alternatives = ["(json_type(e.data, ?) = 'text' AND json_extract(e.data, ?) = ?)"];
  const params: unknown[] = [path, path, value];
  if (value === 'true' || value === 'false' || value === 'null') {
    alternatives.push('json_type(e.data, ?) = ?');
    params.push(path, value);
  } else if (JSON_NUMBER.test(value)) {
    alternatives.push("(json_type(e.data, ?) IN ('integer', 'real') AND json_extract(e.data, ?) = ?)");
    params.push(path, path, Number(value));
  }
  return [`(${alternatives.join(' OR ')})`, params];
}

/** ['customer', 'id'] → $."customer"."id"; numeric steps index arrays: ['lines', '0'] → $."lines"[0]. */
function jsonPath(steps: readonly string[]): string {
  return `$${steps.map((step) => (/^\d+$/.test(step) ? `[${step}]` : `.${JSON.stringify(step)}`)).join('')}`;
}
