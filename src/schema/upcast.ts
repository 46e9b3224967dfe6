import { EvlogError } from '../errors.js';
import type { EventRecord } from '../store/types.js';

/** A pure function from one version's data to the next version's. */
// biome-ignore lint/suspicious/noExplicitAny: the data shape is the user's; upcasters are written in plain JS
export type Upcaster = (data: any) => unknown;

/** Per event type, per version N (the key): the upcaster from N to N+1. */
export type Upcasters = Record<string, Record<string | number, Upcaster>>;

/** Turns a stored record into its latest shape (or returns it as it is). */
export type RecordUpcaster = (record: EventRecord) => EventRecord;

/**
 * The version a type's events are upcast to: its latest registered schema version. A type
 * without registered schemas is not upcast, whatever upcasters the config declares for it:
 * the versions upcasters step between are the registry's, so one rule holds for every type.
 */
export function upcastTarget(
  type: string,
  _upcasters: Upcasters,
  latestVersions: ReadonlyMap<string, number>,
): number | undefined {
  return latestVersions.get(type);
}

/**
 * Runs the upcasters of `type` on `data` from `fromVersion` up to `toVersion`. A version
 * without an upcaster passes its data on unchanged (a compatible change needs none).
 * A throwing upcaster is a failure that names it and the event's position.
 */
export function upcastData(
  type: string,
  data: unknown,
  fromVersion: number,
  toVersion: number,
  upcasters: Upcasters,
  where: { position: number; source?: string },
): unknown {
  const chain = upcasters[type] ?? {};
  let current = data;
  for (let version = fromVersion; version < toVersion; version++) {
    const upcaster = chain[version];
    if (!upcaster) continue;
    const name = `${type} ${version}→${version + 1}${where.source ? ` (in ${where.source})` : ''}`;
    try {
      current = upcaster(current);
    } catch (error) {
      throw new EvlogError(
        'failure',
        `the upcaster ${name} threw on the event at position ${where.position}: ${error instanceof Error ? error.message : String(error)}`,
        { hint: 'fix the upcaster, or read the stored form with --raw', cause: error },
      );
    }
    if (current === undefined) {
      throw new EvlogError(
        'failure',
        `the upcaster ${name} returned nothing for the event at position ${where.position}`,
        { hint: 'an upcaster returns the new data: (data) => ({ ...data, … })' },
      );
    }
  }
  return current;
}

/**
 * A record upcaster for reads (tail, export, replay, projections). Records of types without
 * upcasters, or already at the target version, are returned as they are,
 * so their stored JSON text is copied out without parsing.
 *
 * @example const upcast = createRecordUpcaster(config.upcasters, await store.latestSchemaVersions());
 */
export function createRecordUpcaster(
  upcasters: Upcasters,
  latestVersions: ReadonlyMap<string, number>,
  source?: string,
): RecordUpcaster {
  const targets = new Map<string, number | undefined>();
  for (const type of Object.keys(upcasters)) targets.set(type, upcastTarget(type, upcasters, latestVersions));
  return (record) => {
    const target = targets.get(record.type);
    // An event appended before its type had a schema is read as version 1: the first schema
    // registered for a type with stored events was checked against them.
    const version = record.schemaVersion ?? 1;
    if (target === undefined || version >= target) return record;
    const data = upcastData(record.type, JSON.parse(record.dataJson), version, target, upcasters, {
      position: record.position,
      source,
    });
    let dataJson: string;
    try {
      dataJson = JSON.stringify(data);
    } catch (error) {
      throw new EvlogError(
        'failure',
        `the upcasters of ${record.type} returned data that is not JSON at position ${record.position}: ${error instanceof Error ? error.message : error}`,
      );
    }
    return { ...record, schemaVersion: target, dataJson };
  };
}
