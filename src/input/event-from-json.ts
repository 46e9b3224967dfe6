import { EvlogError } from '../errors.js';
import type { JsonObject, NewEvent } from '../store/index.js';
import { parseJson } from './parse-json.js';

export interface EventDefaults {
  topic?: string;
  key?: string;
  /** `append --batch --schema-version n`: the version for lines that name none. */
  schemaVersion?: number;
}

// What an input line may hold: the append shape, plus the envelope `tail --json` prints.
const EVENT_FIELDS = new Set([
  'type',
  'data',
  'topic',
  'key',
  'id',
  'metadata',
  'expect',
  'schemaVersion',
  'position',
  'version',
  'time',
]);

/**
 * One input object as an event to append. Accepts the append shape
 * (`{"type","data", optional "topic","key","id","metadata","expect"}`), the envelope that
 * `tail --json` prints (position and version are ignored, id is kept) and CloudEvents 1.0 JSON.
 * `time` is kept only when `keepTime` (import).
 */
export function eventFromJson(value: unknown, defaults: EventDefaults, keepTime: boolean): NewEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EvlogError('invalid', 'expected a JSON object describing an event');
  }
  const object = value as JsonObject;
  if ('specversion' in object) return eventFromCloudEvent(object, defaults, keepTime);
  for (const field of Object.keys(object)) {
    if (!EVENT_FIELDS.has(field)) {
      throw new EvlogError('invalid', `unknown field "${field}"`, {
        hint: `an event line has ${[...EVENT_FIELDS].slice(0, 7).join(', ')}`,
      });
    }
  }
  if (!('data' in object)) throw new EvlogError('invalid', 'missing "data"');
  return {
    topic: requireTopic(object.topic ?? defaults.topic),
    key: 'key' in object ? (object.key as string | null) : (defaults.key ?? null),
    type: object.type as string,
    data: object.data,
    metadata: object.metadata as JsonObject | undefined,
    id: object.id as string | undefined,
    expect: object.expect as NewEvent['expect'],
    schemaVersion: (object.schemaVersion as number | null | undefined) ?? defaults.schemaVersion,
    time: keepTime ? parseRecordedTime(object.time) : undefined,
  };
}

function eventFromCloudEvent(object: JsonObject, defaults: EventDefaults, keepTime: boolean): NewEvent {
  if (object.specversion !== '1.0') {
    throw new EvlogError(
      'invalid',
      `unsupported CloudEvents specversion ${JSON.stringify(object.specversion)} (1.0 is)`,
    );
  }
  if ('data_base64' in object) {
    throw new EvlogError('invalid', 'binary CloudEvents (data_base64) are not supported: evlog stores JSON data');
  }
  const metadata =
    typeof object.evlogmetadata === 'string'
      ? (parseJson(object.evlogmetadata, '"evlogmetadata"') as JsonObject)
      : typeof object.source === 'string' && !object.source.startsWith('evlog:/')
        ? { source: object.source }
        : undefined;
  return {
    topic: requireTopic(object.evlogtopic ?? defaults.topic),
    key: (object.subject as string | undefined) ?? defaults.key ?? null,
    type: object.type as string,
    data: 'data' in object ? object.data : null,
    metadata,
    id: object.id as string | undefined,
    schemaVersion: (object.evlogschemaversion as number | undefined) ?? defaults.schemaVersion,
    time: keepTime ? parseRecordedTime(object.time) : undefined,
  };
}

function requireTopic(topic: unknown): string {
  if (topic === undefined || topic === null) {
    throw new EvlogError('invalid', 'no "topic": give one in the line, or as the command\'s topic argument');
  }
  if (typeof topic !== 'string') throw new EvlogError('invalid', '"topic" must be a string');
  return topic;
}

function parseRecordedTime(time: unknown): number | undefined {
  if (time === undefined || time === null) return undefined;
  const ms = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new EvlogError('invalid', `invalid "time" ${JSON.stringify(time)}: use an ISO-8601 time`);
  return ms;
}
