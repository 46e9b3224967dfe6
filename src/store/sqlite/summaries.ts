import type { Database } from 'better-sqlite3';
import { EvlogError } from '../../errors.js';
import { formatStreamName } from '../stream-name.js';
import type { StoreHead, StoreStats, StreamSummary, TopicSummary } from '../types.js';

/** Topics, streams and totals, read from the streams table rather than by scanning events. */
export function createSummaries(db: Database, path: string) {
  const head = db.prepare('SELECT position, time FROM events ORDER BY position DESC LIMIT 1').raw();
  const firstTime = db.prepare('SELECT time FROM events WHERE position = 1').pluck();
  const topics = db
    .prepare(
      `SELECT t.name, sum(s.version), count(*), max(s.last_position)
       FROM streams s JOIN topics t ON t.topic_id = s.topic_id
       GROUP BY t.topic_id HAVING sum(s.version) > 0 ORDER BY t.name`,
    )
    .raw();
  const topicId = db.prepare('SELECT topic_id FROM topics WHERE name = ?').pluck();
  const streams = db
    .prepare('SELECT key, version, last_position FROM streams WHERE topic_id = ? AND version > 0 ORDER BY key')
    .raw();
  const version = db
    .prepare('SELECT s.version FROM streams s JOIN topics t ON t.topic_id = s.topic_id WHERE t.name = ? AND s.key = ?')
    .pluck();
  const counts = db
    .prepare(
      `SELECT (SELECT count(*) FROM topics), (SELECT count(*) FROM streams), (SELECT count(*) FROM event_types),
        (SELECT count(*) FROM consumer_groups), (SELECT count(*) FROM dead_letters WHERE status = 'parked')`,
    )
    .raw();

  function readHead(): StoreHead {
    const row = head.get() as [number, number] | undefined;
    return { position: row?.[0] ?? 0, time: row?.[1] ?? null };
  }

  function listTopics(): TopicSummary[] {
    return (topics.all() as [string, number, number, number][]).map(([topic, events, streamCount, lastPosition]) => ({
      topic,
      events,
      streams: streamCount,
      lastPosition,
    }));
  }

  function listStreams(topic: string): StreamSummary[] {
    const id = topicId.get(topic) as number | undefined;
    if (id === undefined) {
      throw new EvlogError('not_found', `no topic "${topic}" in ${path}`, {
        hint: 'list the topics with `evlog topics`',
      });
    }
    return (streams.all(id) as [string, number, number][]).map(([key, version, lastPosition]) => {
      const streamKey = key === '' ? null : key;
      return { stream: formatStreamName(topic, streamKey), topic, key: streamKey, version, lastPosition };
    });
  }

  function streamVersion(topic: string, key: string | null): number {
    return (version.get(topic, key ?? '') as number | undefined) ?? 0;
  }

  function stats(): StoreStats {
    const { position, time } = readHead();
    const [topicCount, streamCount, typeCount, groupCount, parkedCount] = counts.get() as number[];
    const pageCount = db.pragma('page_count', { simple: true }) as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    return {
      path,
      schemaVersion: db.pragma('user_version', { simple: true }) as number,
      events: position,
      topics: topicCount as number,
      streams: streamCount as number,
      types: typeCount as number,
      headPosition: position,
      firstTime: position > 0 ? (firstTime.get() as number) : null,
      lastTime: time,
      sizeBytes: pageCount * pageSize,
      consumerGroups: groupCount as number,
      parkedDeadLetters: parkedCount as number,
    };
  }

  return { readHead, listTopics, listStreams, streamVersion, stats };
}
