/**
 * An in-memory InspectorData for component tests: events, projections, schemas, consumer
 * groups and dead letters, with the calls the inspector made recorded.
 */

import type { DiscardOutcome, RedriveOutcome } from '../../consumers/redrive.js';
import type { ProjectionStatusView } from '../../projections/index.js';
import type {
  ConsumerGroupSummary,
  DeadLetter,
  DeadLetterFilter,
  DeadLetterPage,
  DeadLetterWithHistory,
  EventFilter,
  EventRecord,
  PageRequest,
  SchemaTypeSummary,
  StoredSchema,
} from '../../store/types.js';
import type { InspectorData } from '../inspector-data.js';

export const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);

export function makeEvent(
  position: number,
  fields: Partial<EventRecord> & { data?: unknown; metadata?: unknown } = {},
) {
  const { data, metadata, ...rest } = fields;
  const record: EventRecord = {
    position,
    id: `id-${position}`,
    topic: 'orders',
    key: `order-${position}`,
    version: 1,
    type: 'OrderPlaced',
    schemaVersion: null,
    time: T0 + position * 1000,
    dataJson: JSON.stringify(data ?? { orderId: `order-${position}`, total: position }),
    metadataJson: JSON.stringify(metadata ?? { correlationId: `corr-${position}` }),
    ...rest,
  };
  return record;
}

export function makeDeadLetter(id: number, fields: Partial<DeadLetter> = {}): DeadLetterWithHistory {
  const entry: DeadLetterWithHistory = {
    id,
    source: 'consumer',
    group: 'mailer',
    position: id,
    topic: 'orders',
    type: 'OrderPlaced',
    line: null,
    reason: 'handler-failed',
    error: `smtp refused the message for entry ${id}\n  at send (mailer.js:12)`,
    attempts: 3,
    status: 'parked',
    firstFailedAt: T0,
    lastFailedAt: T0 + 60_000,
    history: [],
    ...fields,
    lineDefaults: fields.lineDefaults ?? null,
  };
  return entry;
}

function matchesEvent(record: EventRecord, filter: EventFilter): boolean {
  if (filter.topics && !filter.topics.includes(record.topic)) return false;
  if (filter.types && !filter.types.includes(record.type)) return false;
  if (filter.key !== undefined && record.key !== filter.key) return false;
  if (filter.fromPosition !== undefined && record.position < filter.fromPosition) return false;
  if (filter.untilPosition !== undefined && record.position > filter.untilPosition) return false;
  return true;
}

function matchesDeadLetter(entry: DeadLetter, filter: DeadLetterFilter): boolean {
  if (filter.ids && !filter.ids.includes(entry.id)) return false;
  if (filter.maxId !== undefined && entry.id > filter.maxId) return false;
  if (filter.group !== undefined && entry.group !== filter.group) return false;
  if (filter.status !== undefined && entry.status !== filter.status) return false;
  if (filter.type !== undefined && entry.type !== filter.type) return false;
  if (filter.reason !== undefined && entry.reason !== filter.reason) return false;
  if (filter.text !== undefined) {
    const text = `${entry.group} ${entry.type} ${entry.reason} ${entry.error}`.toLowerCase();
    if (!text.includes(filter.text.toLowerCase())) return false;
  }
  return true;
}

export interface FakeOptions {
  events?: EventRecord[];
  deadLetters?: DeadLetterWithHistory[];
  projections?: ProjectionStatusView[];
  schemas?: StoredSchema[];
  compat?: Record<string, SchemaTypeSummary['compat']>;
  groups?: ConsumerGroupSummary[];
  /** Redrives of these ids fail again with this error. */
  failingRedrives?: Map<number, string>;
}

export function createFakeData(options: FakeOptions = {}) {
  const events = [...(options.events ?? [])];
  const deadLetters = [...(options.deadLetters ?? [])];
  const projections = [...(options.projections ?? [])];
  const schemas = [...(options.schemas ?? [])];
  const listeners = new Set<() => void>();
  const calls = {
    readEvents: [] as { filter: EventFilter; page: PageRequest }[],
    redrive: [] as number[][],
    discard: [] as number[][],
    rebuild: [] as string[],
  };
  /** Make a store call fail: the name of the function, and the error. */
  const failures = new Map<string, string>();
  const check = (name: string) => {
    const message = failures.get(name);
    if (message) throw new Error(message);
  };
  let rebuildGate: Promise<void> = Promise.resolve();

  const notifyCommit = () => {
    for (const listener of listeners) listener();
  };
  const data: InspectorData = {
    storePath: '/tmp/shop.db',
    async head() {
      check('head');
      const last = events.at(-1);
      return { position: last?.position ?? 0, time: last?.time ?? null };
    },
    watchCommits(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    async readEvents(filter, page) {
      check('readEvents');
      calls.readEvents.push({ filter, page });
      const forward = page.direction === 'forward';
      const matching = events.filter(
        (e) =>
          matchesEvent(e, filter) &&
          (page.after === undefined || (forward ? e.position > page.after : e.position < page.after)),
      );
      return forward ? matching.slice(0, page.limit) : matching.reverse().slice(0, page.limit);
    },
    async findPositionAtOrAfter(time) {
      return events.find((e) => e.time >= time)?.position ?? null;
    },
    async listProjections() {
      check('listProjections');
      return projections;
    },
    async rebuildProjection(name, onProgress) {
      check('rebuildProjection');
      calls.rebuild.push(name);
      const head = events.at(-1)?.position ?? 0;
      onProgress(Math.floor(head / 2), head);
      await rebuildGate;
      onProgress(head, head);
      return { name, from: 0, to: head, events: head };
    },
    async listSchemaTypes() {
      const types = [...new Set(schemas.map((s) => s.type))].sort();
      return types.map((type) => {
        const versions = schemas.filter((s) => s.type === type).map((s) => s.version);
        return { type, latestVersion: Math.max(...versions), versions, compat: options.compat?.[type] ?? 'backward' };
      });
    },
    async readSchemas(type) {
      return schemas.filter((s) => s.type === type);
    },
    pending: () => 0,
    settle: async () => {},
    listConsumerGroups: async () => {
      check('listConsumerGroups');
      return options.groups ?? [];
    },
    deadLetters: {
      async list(filter: DeadLetterFilter, page: DeadLetterPage) {
        check('listDeadLetters');
        const matching = deadLetters.filter((e) => matchesDeadLetter(e, filter));
        if (page.beforeId !== undefined) {
          const before = page.beforeId;
          return matching
            .filter((e) => e.id < before)
            .reverse()
            .slice(0, page.limit);
        }
        return matching.filter((e) => e.id > (page.afterId ?? 0)).slice(0, page.limit);
      },
      async count(filter) {
        return deadLetters.filter((e) => matchesDeadLetter(e, filter)).length;
      },
      async read(id) {
        return deadLetters.find((e) => e.id === id) ?? null;
      },
      async redrive(ids): Promise<RedriveOutcome[]> {
        check('redrive');
        calls.redrive.push([...ids]);
        const outcomes = ids.map((id): RedriveOutcome => {
          const entry = deadLetters.find((e) => e.id === id) as DeadLetterWithHistory;
          if (entry.status !== 'parked') return { id, outcome: 'skipped', error: `already ${entry.status}` };
          const error = options.failingRedrives?.get(id);
          if (error) {
            entry.attempts++;
            entry.error = error;
            entry.history.push({ at: T0 + 120_000, action: 'failed', error, position: null, note: null });
            return { id, outcome: 'failed', error };
          }
          entry.status = 'redriven';
          entry.history.push({ at: T0 + 120_000, action: 'redriven', error: null, position: null, note: null });
          return { id, outcome: 'redriven', error: null };
        });
        // As the real store: its watch reports other processes' commits, not this one's.
        return outcomes;
      },
      async discard(ids) {
        calls.discard.push([...ids]);
        const outcomes = ids.map((id): DiscardOutcome => {
          const entry = deadLetters.find((e) => e.id === id) as DeadLetterWithHistory;
          if (entry.status !== 'parked') return { id, outcome: 'skipped', reason: `already ${entry.status}` };
          entry.status = 'discarded';
          return { id, outcome: 'discarded', reason: null };
        });
        // As the real store: its watch reports other processes' commits, not this one's.
        return outcomes;
      },
    },
  };

  return {
    data,
    calls,
    failures,
    deadLetters,
    projections,
    /** Appends events as another process would, and tells the watchers. */
    append(...records: EventRecord[]) {
      events.push(...records);
      notifyCommit();
    },
    /** Holds rebuilds after their first progress report until the returned function is called. */
    holdRebuilds(): () => void {
      let release = () => {};
      rebuildGate = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
  };
}
