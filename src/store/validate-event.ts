import { EvlogError } from '../errors.js';
import type { ExpectedVersion, NewEvent } from './types.js';

/** 1 MiB: the default limit on an event's data plus metadata, as stored JSON. */
export const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** The largest time a Date can hold (year 275760). */
const MAX_TIME = 8.64e15;

const TOPIC_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;
const TYPE_PATTERN = /^[A-Za-z_][A-Za-z0-9_.:-]{0,199}$/;
const MAX_KEY_LENGTH = 1024;
const MAX_ID_LENGTH = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

// Names already checked: most events of a batch share a few topics and types.
const validTopics = new Set<string>();
const validTypes = new Set<string>();
const MAX_CACHED_NAMES = 10_000;

function remember(names: Set<string>, name: string): void {
  if (names.size < MAX_CACHED_NAMES) names.add(name);
}

/** Throws a usage error unless `topic` is a valid topic name (Kafka's rule: letters, digits, . _ -). */
export function checkTopicName(topic: string): void {
  if (validTopics.has(topic)) return;
  if (TOPIC_PATTERN.test(topic)) remember(validTopics, topic);
  else {
    throw new EvlogError('invalid', `invalid topic "${topic}": use 1-249 letters, digits, ".", "_" or "-"`);
  }
}

export function checkEventType(type: string): void {
  if (validTypes.has(type)) return;
  if (TYPE_PATTERN.test(type)) remember(validTypes, type);
  else {
    throw new EvlogError(
      'invalid',
      `invalid event type "${type}": start with a letter, then letters, digits, "_", ".", ":" or "-" (e.g. OrderPlaced)`,
    );
  }
}

export function checkKey(key: string): void {
  if (key === '' || key.length > MAX_KEY_LENGTH || CONTROL_CHARACTERS.test(key)) {
    throw new EvlogError('invalid', `invalid key ${JSON.stringify(key)}: use 1-${MAX_KEY_LENGTH} printable characters`);
  }
}

export function checkEventId(id: string): void {
  if (id === '' || id.length > MAX_ID_LENGTH || CONTROL_CHARACTERS.test(id)) {
    throw new EvlogError(
      'invalid',
      `invalid event id ${JSON.stringify(id)}: use 1-${MAX_ID_LENGTH} printable characters`,
    );
  }
}

export function checkExpectedVersion(expect: unknown): asserts expect is ExpectedVersion {
  if (expect === 'none' || expect === 'exists' || expect === 'any') return;
  if (typeof expect === 'number' && Number.isSafeInteger(expect) && expect >= 0) return;
  throw new EvlogError(
    'invalid',
    `invalid expected version ${JSON.stringify(expect)}: use a version number, "none", "exists" or "any"`,
  );
}

/** An event checked and turned into the text the store keeps. */
export interface PreparedEvent {
  topic: string;
  key: string | null;
  type: string;
  id: string | undefined;
  expect: ExpectedVersion;
  schemaVersion: number | null;
  time: number | undefined;
  dataJson: string;
  /** null when the metadata is empty. */
  metadataJson: string | null;
}

/**
 * Checks one event and serialises its data and metadata. Pure, so input readers can call
 * it per line (to name the line) before the store calls it again inside the append.
 */
export function prepareEvent(event: NewEvent, maxEventBytes: number = DEFAULT_MAX_EVENT_BYTES): PreparedEvent {
  if (typeof event !== 'object' || event === null) {
    throw new EvlogError('invalid', 'an event must be a JSON object');
  }
  if (typeof event.topic !== 'string') throw new EvlogError('invalid', 'an event needs a "topic" (a string)');
  checkTopicName(event.topic);
  if (typeof event.type !== 'string' || event.type === '') {
    throw new EvlogError('invalid', 'an event needs a "type" (a string such as "OrderPlaced")');
  }
  checkEventType(event.type);
  const key = event.key ?? null;
  if (key !== null) {
    if (typeof key !== 'string') throw new EvlogError('invalid', '"key" must be a string');
    checkKey(key);
  }
  if (event.id !== undefined) {
    if (typeof event.id !== 'string') throw new EvlogError('invalid', '"id" must be a string');
    checkEventId(event.id);
  }
  const expect = event.expect ?? 'any';
  checkExpectedVersion(expect);
  const schemaVersion = event.schemaVersion ?? null;
  if (schemaVersion !== null && !(Number.isSafeInteger(schemaVersion) && schemaVersion > 0)) {
    throw new EvlogError('invalid', `invalid schema version ${JSON.stringify(schemaVersion)}: use a number from 1`);
  }
  if (event.data === undefined) throw new EvlogError('invalid', 'an event needs "data" (any JSON value)');
  const metadata = event.metadata ?? {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw new EvlogError('invalid', '"metadata" must be a JSON object');
  }
  const dataJson = JSON.stringify(event.data);
  const metadataJson = isEmpty(metadata) ? null : JSON.stringify(metadata);
  // JSON text length in UTF-16 units is within a factor of 3 of its UTF-8 size: only count
  // bytes exactly when the cheap estimate is near the limit.
  const approx = dataJson.length + (metadataJson?.length ?? 0);
  if (approx * 3 > maxEventBytes) {
    const bytes = Buffer.byteLength(dataJson) + (metadataJson ? Buffer.byteLength(metadataJson) : 0);
    if (bytes > maxEventBytes) {
      throw new EvlogError('invalid', `event is ${bytes} bytes, over the limit of ${maxEventBytes} bytes`, {
        hint: 'raise the limit with EVLOG_MAX_EVENT_BYTES, or store large payloads elsewhere and append a reference',
      });
    }
  }
  const time = event.time;
  if (time !== undefined && !(Number.isSafeInteger(time) && time >= 0 && time <= MAX_TIME)) {
    throw new EvlogError('invalid', `invalid recorded time ${JSON.stringify(time)}`);
  }
  return {
    topic: event.topic,
    key,
    type: event.type,
    id: event.id,
    expect,
    schemaVersion,
    time,
    dataJson,
    metadataJson,
  };
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}
