import { EvlogError } from '../errors.js';
import type { EventStore } from '../store/port.js';
import type { AppendOptions, AppendResult, NewEvent } from '../store/types.js';
import type { JsonSchema } from './compatibility.js';
import type { DataValidator } from './validate-data.js';

/** The store setting that refuses event types without a schema. */
export const STRICT_SETTING = 'strict';

/**
 * Checks events against their type's schema before they are appended, and stamps them with
 * the schema version they were checked against.
 */
export interface SchemaGuard {
  /**
   * The event as it should be appended: validated against its type's latest schema (or the
   * version it names) and stamped with `schemaVersion`. Synchronous once the type's validator
   * is compiled, so a batch pays no promise per event. Throws an `invalid` EvlogError with
   * one detail line per violation, or `not_found` for a schema version that does not exist.
   */
  check(event: NewEvent): NewEvent | Promise<NewEvent>;
}

type ValidatorModule = typeof import('./validate-data.js');

/**
 * A guard for appends to `store`. It reads which types have schemas (one small query) and the
 * strict setting once; the validator (Ajv) is loaded only when an event's type has a schema.
 *
 * @example
 * const guard = await createSchemaGuard(store);
 * await store.appendEvents([await guard.check({ topic: 'orders', type: 'OrderPlaced', data })]);
 */
export async function createSchemaGuard(store: EventStore): Promise<SchemaGuard> {
  const latest = await store.latestSchemaVersions();
  const strict = (await store.readSetting(STRICT_SETTING)) === 'on';
  if (latest.size === 0 && !strict) return { check: (event) => event };

  let validatorModule: ValidatorModule | undefined;
  const validators = new Map<string, DataValidator>();

  async function load(type: string, version: number): Promise<void> {
    validatorModule ??= await import('./validate-data.js');
    const stored = await store.readSchema(type, version);
    if (!stored) {
      throw new EvlogError('not_found', `${type} has no schema version ${version} (latest: ${latest.get(type)})`, {
        hint: `list its versions with \`evlog schema list\`, or leave out --schema-version to use the latest`,
      });
    }
    const document = JSON.parse(stored.documentJson) as JsonSchema;
    validators.set(`${type}\u0000${version}`, validatorModule.compileSchema(document, `${type} v${version}`));
  }

  function checkLoaded(event: NewEvent, version: number, validate: DataValidator): NewEvent {
    const violations = (validatorModule as ValidatorModule).findViolations(validate, event.data);
    if (violations.length > 0) {
      const count = violations.length;
      throw new EvlogError(
        'invalid',
        `${event.type} v${version}: the data breaks its schema (${count} violation${count === 1 ? '' : 's'})`,
        {
          details: violations.map((v) => (validatorModule as ValidatorModule).formatViolation(v)),
          hint: `see the schema with \`evlog schema show ${event.type} --version ${version}\``,
        },
      );
    }
    return event.schemaVersion === version ? event : { ...event, schemaVersion: version };
  }

  return {
    check(event) {
      if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return event;
      const latestVersion = latest.get(event.type);
      if (latestVersion === undefined) {
        if (strict) {
          throw new EvlogError('invalid', `event type "${event.type}" has no schema, and this store is strict`, {
            hint: `register one with \`evlog schema register ${event.type} <schema.json>\`, or allow types without a schema with \`evlog schema strict off\``,
          });
        }
        // No registry for the type: a schemaVersion it carries (copied from another store) is kept.
        return event;
      }
      const version = event.schemaVersion ?? latestVersion;
      const validate = validators.get(`${event.type}\u0000${version}`);
      if (validate) return checkLoaded(event, version, validate);
      return load(event.type, version).then(() =>
        checkLoaded(event, version, validators.get(`${event.type}\u0000${version}`) as DataValidator),
      );
    },
  };
}

/**
 * The store, with appends checked against the schema registry the way the CLI checks them:
 * for library users who want `evlog append`'s behaviour.
 *
 * @example
 * const store = withSchemaValidation(openStore('./evlog.db'));
 * await store.appendEvents([{ topic: 'orders', type: 'OrderPlaced', data: { total: 12.5 } }]); // throws on invalid data
 */
export function withSchemaValidation(store: EventStore): EventStore {
  async function checkAll(guard: SchemaGuard, events: NewEvent[], offset: number): Promise<NewEvent[]> {
    const checked: NewEvent[] = [];
    for (let index = 0; index < events.length; index++) {
      try {
        const result = guard.check(events[index] as NewEvent);
        checked.push(result instanceof Promise ? await result : result);
      } catch (error) {
        if (error instanceof EvlogError && error.eventIndex === undefined) {
          throw new EvlogError(error.code, error.message, {
            hint: error.hint,
            details: error.details,
            eventIndex: offset + index,
          });
        }
        throw error;
      }
    }
    return checked;
  }

  return {
    ...store,
    async appendEvents(events: NewEvent[], options?: AppendOptions): Promise<AppendResult[]> {
      const guard = await createSchemaGuard(store);
      return store.appendEvents(await checkAll(guard, events, 0), options);
    },
    async appendEventStream(batches: AsyncIterable<NewEvent[]>, options?: AppendOptions) {
      const guard = await createSchemaGuard(store);
      let offset = 0;
      async function* checkedBatches() {
        for await (const batch of batches) {
          yield await checkAll(guard, batch, offset);
          offset += batch.length;
        }
      }
      return store.appendEventStream(checkedBatches(), options);
    },
  };
}
