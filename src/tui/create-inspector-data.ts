import type { EvlogConfig } from '../config/load-config.js';
import { discardDeadLetters, redriveDeadLetters } from '../consumers/redrive.js';
import {
  describeProjection,
  type ProjectionDefinition,
  type ProjectionStatusView,
  rebuildProjection,
} from '../projections/index.js';
import type { RecordUpcaster } from '../schema/upcast.js';
import type { EventStore } from '../store/port.js';
import type { EventRecord } from '../store/types.js';
import type { InspectorData } from './inspector-data.js';

export interface InspectorDataOptions {
  /** The projections the config declares. */
  projections: readonly ProjectionDefinition[];
  /** For redrives: the config (consumer groups, projections, upcasters), and where it is. */
  config?: EvlogConfig;
  configPath?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  maxEventBytes?: number;
  /** Turns stored records into their latest shape, as `tail` shows them (none: as stored). */
  upcast?: RecordUpcaster;
  now: () => number;
}

/**
 * The inspector's view of a store: the store port and the library functions the commands
 * use (projection status and rebuild, upcasting), gathered in one object.
 */
export function createInspectorData(store: EventStore, options: InspectorDataOptions): InspectorData {
  const { upcast } = options;
  // Redrives in flight, and the signal that stops them before their next entry (on quit).
  const redrives = new Set<Promise<unknown>>();
  const stopping = new AbortController();
  // An upcaster that throws must not hide the event: show it as stored instead.
  const show = upcast
    ? (record: EventRecord): EventRecord => {
        try {
          return upcast(record);
        } catch {
          return record;
        }
      }
    : undefined;

  return {
    storePath: store.path,
    head: () => store.head(),
    watchCommits: (onChange) => store.watchCommits(onChange),
    async readEvents(filter, page) {
      const records = await store.readEvents(filter, page);
      return show ? records.map(show) : records;
    },
    findPositionAtOrAfter: (time) => store.findPositionAtOrAfter(time),

    async listProjections(): Promise<ProjectionStatusView[]> {
      const records = await store.listProjections();
      const head = (await store.head()).position;
      const names = [...new Set([...options.projections.map((d) => d.name), ...records.map((r) => r.name)])].sort();
      const views: ProjectionStatusView[] = [];
      for (const name of names) {
        const parked = await store.countDeadLetters({ group: name, source: 'projection', status: 'parked' });
        views.push(
          describeProjection(
            name,
            options.projections.find((d) => d.name === name),
            records.find((r) => r.name === name) ?? null,
            head,
            options.now(),
            parked,
          ),
        );
      }
      return views;
    },
    async rebuildProjection(name, onProgress) {
      const definition = options.projections.find((d) => d.name === name);
      if (!definition)
        throw new Error(`projection "${name}" is not in the config: only a declared projection can be rebuilt`);
      return rebuildProjection(store, definition, {
        upcast,
        onProgress: ({ position, target }) => onProgress(position, target),
      });
    },

    pending: () => redrives.size,
    listSchemaTypes: () => store.listSchemaTypes(),
    readSchemas: (type) => store.readSchemas(type),

    listConsumerGroups: () => store.listConsumerGroups(),
    deadLetters: {
      list: (filter, page) => store.listDeadLetters(filter, page),
      count: (filter) => store.countDeadLetters(filter),
      read: (id) => store.readDeadLetter(id),
      // A handler's output would write over the screen: it is dropped (the outcome keeps the error).
      redrive(ids) {
        const work = redriveDeadLetters(store, ids, {
          config: options.config,
          configPath: options.configPath,
          cwd: options.cwd,
          env: options.env,
          maxEventBytes: options.maxEventBytes,
          clock: options.now,
          signal: stopping.signal,
        });
        redrives.add(work);
        const forget = () => redrives.delete(work);
        work.then(forget, forget);
        return work;
      },
      discard: (ids) => discardDeadLetters(store, ids),
    },

    async settle() {
      stopping.abort();
      await Promise.allSettled([...redrives]);
      return;
    },
  };
}
