import { accessSync, constants, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { EvlogError } from '../../errors.js';
import type { EventStore } from '../port.js';
import type { AppendOptions, AppendResult, NewDeadLetter, NewEvent, RedriveResult } from '../types.js';
import { DEFAULT_MAX_EVENT_BYTES } from '../validate-event.js';
import { type AppendTransaction, createAppender } from './append-events.js';
import { createConsumerGroups } from './consumer-groups.js';
import { createDeadLetters } from './dead-letters.js';
import { createTimeIndex } from './find-position-at-time.js';
import { EVLOG_APPLICATION_ID, LATEST_SCHEMA_VERSION, migrate } from './migrations.js';
import { createProjectionTables } from './projection-tables.js';
import { createReader } from './read-events.js';
import { createSchemaRegistry } from './schema-registry.js';
import { createSummaries } from './summaries.js';
import { translateError } from './translate-error.js';
import { type WatchOptions, watchCommits } from './watch-commits.js';

export interface OpenStoreOptions {
  /** Create the store when the file is missing or empty (commands that write). Default true. */
  create?: boolean;
  /** Limit on an event's data plus metadata, in bytes of JSON. Default 1 MiB. */
  maxEventBytes?: number;
  /** The clock that stamps recorded time (ms since the epoch). Default Date.now. */
  clock?: () => number;
  /** How long to wait for another process's write lock, in ms. Default 10 s. */
  busyTimeoutMs?: number;
  /** How `watchCommits` notices other processes' commits. Default: watch the WAL file, poll every 20 ms as a fallback. */
  watch?: Partial<WatchOptions>;
  /**
   * `full` (default): a commit survives a power cut. `process`: it survives the process being
   * killed but a power cut may undo the last commits; for consumers' checkpoints, which a
   * power cut then only moves back (events are delivered again, never skipped), at a fraction
   * of the cost of an fsync per event.
   */
  durability?: 'full' | 'process';
}

/**
 * Opens (or creates) an evlog store in one SQLite file.
 *
 * @example
 * const store = openStore('./evlog.db');
 * await store.appendEvents([{ topic: 'orders', key: 'order-17', type: 'OrderPlaced', data: { total: 12.5 } }]);
 */
export function openStore(path: string, options: OpenStoreOptions = {}): EventStore {
  const create = options.create ?? true;
  const exists = fileExists(path);
  if (!exists && !create) {
    throw new EvlogError('not_found', `no store at ${path}`, {
      hint: 'create one with `evlog init`, or point to one with --db <path> or EVLOG_DB',
    });
  }
  if (!exists && !statSync(dirname(resolve(path)), { throwIfNoEntry: false })) {
    throw new EvlogError('not_found', `cannot create ${path}: the folder ${dirname(path)} does not exist`, {
      hint: 'create the folder first, or choose another path with --db',
    });
  }
  const writable = !exists || isWritable(path);
  if (!writable) checkReadableInPlace(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: !writable, timeout: options.busyTimeoutMs ?? 10_000 });
  } catch (error) {
    throw translateError(error, path);
  }
  try {
    retryWhileBusy(() => prepareDatabase(db, path, create, writable), options.busyTimeoutMs ?? 10_000);
    // NORMAL in WAL mode: no fsync per commit, but the WAL is written before the commit returns.
    if (writable && options.durability === 'process') db.pragma('synchronous = NORMAL');
  } catch (error) {
    db.close();
    throw translateError(error, path);
  }
  return createSqliteStore(db, path, options);
}

function fileExists(path: string): boolean {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats?.isDirectory()) throw new EvlogError('usage', `${path} is a folder, not a store file`);
  return stats !== undefined;
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A WAL store is read through its -shm file: SQLite must be able to create it beside the store. */
function checkReadableInPlace(path: string): void {
  if (statSync(`${path}-shm`, { throwIfNoEntry: false }) || isWritable(dirname(resolve(path)))) return;
  throw new EvlogError('failure', `cannot read ${path}: the file and its folder are read-only`, {
    hint: `SQLite needs to create ${basename(path)}-shm beside the store; copy the store to a writable folder`,
  });
}

/**
 * Creating a store races with other processes creating it: switching a new file to WAL can
 * fail at once with SQLITE_BUSY (SQLite does not wait there, to avoid a deadlock). Retry
 * with a short random pause until the busy timeout.
 */
function retryWhileBusy(work: () => void, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      work();
      return;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 20);
    }
  }
}

/** Refuses foreign and newer files before anything is written to them, then migrates. */
function prepareDatabase(db: Database.Database, path: string, create: boolean, writable: boolean): void {
  // One statement, so one snapshot: another process may be creating the store right now.
  const [applicationId, schemaVersion, tables] = db
    .prepare(
      `SELECT (SELECT application_id FROM pragma_application_id()), (SELECT user_version FROM pragma_user_version()),
              (SELECT count(*) FROM sqlite_master WHERE type = 'table')`,
    )
    .raw()
    .get() as [number, number, number];
  const ours = applicationId === EVLOG_APPLICATION_ID;
  const blank = applicationId === 0 && schemaVersion === 0 && tables === 0;
  if (!ours && !blank) {
    throw new EvlogError('not_found', `${path} is not an evlog store; it was left untouched`, {
      hint: 'point to an evlog store with --db <path>, or create one with `evlog init --db <new file>`',
    });
  }
  if (schemaVersion > LATEST_SCHEMA_VERSION) {
    throw new EvlogError(
      'failure',
      `${path} was written by a newer evlog (store schema ${schemaVersion}; this evlog knows up to ${LATEST_SCHEMA_VERSION})`,
      { hint: 'upgrade evlog to use this store' },
    );
  }
  if (blank && !create) {
    throw new EvlogError('not_found', `${path} is empty, not an evlog store`, {
      hint: 'create the store with `evlog init`',
    });
  }
  if (!writable) {
    if (schemaVersion < LATEST_SCHEMA_VERSION) {
      throw new EvlogError(
        'failure',
        `${path} needs an upgrade to schema ${LATEST_SCHEMA_VERSION}, but it is read-only`,
      );
    }
    return;
  }
  db.pragma('journal_mode = WAL');
  // FULL: a commit survives a power cut too, at one fsync per transaction (batches amortise it).
  db.pragma('synchronous = FULL');
  // Checkpoint every 64 MiB of WAL rather than SQLite's 4 MiB: index pages written many times
  // between checkpoints are copied back once, which made batched appends ~1.3x faster.
  db.pragma('wal_autocheckpoint = 16384');
  db.pragma('journal_size_limit = 67108864');
  if (schemaVersion < LATEST_SCHEMA_VERSION) migrate(db);
}

/**
 * A part of the adapter, built on first use: each part prepares its statements when built,
 * and a command uses few of the sixty or so, so opening the store prepares none.
 */
function once<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

function createSqliteStore(db: Database.Database, path: string, options: OpenStoreOptions): EventStore {
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  const appender = once(() => createAppender(db, { maxEventBytes, clock: options.clock ?? Date.now }));
  const reader = once(() => createReader(db));
  const timeIndex = once(() => createTimeIndex(db));
  const summaries = once(() => createSummaries(db, path));
  const registry = once(() => createSchemaRegistry(db, options.clock ?? Date.now));
  const deadLetters = once(() => createDeadLetters(db, options.clock ?? Date.now));
  const projections = once(() =>
    createProjectionTables(
      db,
      options.clock ?? Date.now,
      (entries) => deadLetters().park(entries),
      (id, owner, note) => deadLetters().finish(id, owner, { ok: true, note }, null),
      (ids, note) => deadLetters().resolve(ids, note),
    ),
  );
  const parkAlso = (entries: readonly NewDeadLetter[] | undefined) => () => {
    if (entries?.length) deadLetters().park(entries);
  };
  const groups = once(() =>
    createConsumerGroups(db, options.clock ?? Date.now, (entries) => deadLetters().park(entries)),
  );
  const watchOptions: WatchOptions = { pollMs: 20, useFileWatch: true, ...options.watch };
  let transactionOpen = false;
  const watchers = new Set<() => void>();

  /** Runs store work, translating driver errors at the edge. */
  function guarded<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw translateError(error, path);
    }
  }

  function beginImmediate(): AppendTransaction {
    if (transactionOpen) throw new EvlogError('failure', 'an append is already in progress on this store handle');
    db.exec('BEGIN IMMEDIATE');
    transactionOpen = true;
    try {
      return appender().begin();
    } catch (error) {
      rollback();
      throw error;
    }
  }

  /** Commits an append; `alsoWrite` runs inside the transaction, after the events are written. */
  function commit(tx: AppendTransaction, alsoWrite?: (results: AppendResult[]) => void): AppendResult[] {
    const results = appender().finish(tx);
    alsoWrite?.(results);
    db.exec('COMMIT');
    transactionOpen = false;
    appender().committed();
    return results;
  }

  function rollback(): void {
    if (db.inTransaction) db.exec('ROLLBACK');
    transactionOpen = false;
    appender().rolledBack();
  }

  return {
    path,

    async appendEvents(events: NewEvent[], appendOptions?: AppendOptions): Promise<AppendResult[]> {
      return guarded(() => {
        const tx = beginImmediate();
        try {
          appender().append(tx, events, appendOptions);
          return commit(tx, parkAlso(appendOptions?.deadLetters));
        } catch (error) {
          rollback();
          throw error;
        }
      });
    },

    async appendEventStream(batches: AsyncIterable<NewEvent[]>, appendOptions?: AppendOptions) {
      const tx = guarded(beginImmediate);
      try {
        for await (const batch of batches) guarded(() => appender().append(tx, batch, appendOptions));
        // Read at the commit: a caller may add the lines it parks while the batches run.
        return guarded(() => commit(tx, parkAlso(appendOptions?.deadLetters)));
      } catch (error) {
        guarded(rollback);
        throw error;
      }
    },

    async readEvents(filter, page) {
      return guarded(() => reader().readEvents(filter, page));
    },

    async head() {
      return guarded(summaries().readHead);
    },

    async findPositionAtOrAfter(time) {
      return guarded(() => timeIndex().findPositionAtOrAfter(time));
    },

    async findPositionAtOrBefore(time) {
      return guarded(() => timeIndex().findPositionAtOrBefore(time));
    },

    async streamVersion(topic, key) {
      return guarded(() => summaries().streamVersion(topic, key));
    },

    async listTopics() {
      return guarded(summaries().listTopics);
    },

    async listStreams(topic) {
      return guarded(() => summaries().listStreams(topic));
    },

    async stats() {
      return guarded(summaries().stats);
    },

    async registerSchema(type, documentJson, registerOptions) {
      return guarded(() => registry().registerSchema(type, documentJson, registerOptions));
    },

    async readSchema(type, version) {
      return guarded(() => registry().readSchema(type, version));
    },

    async readSchemas(type) {
      return guarded(() => registry().readSchemas(type));
    },

    async listSchemaTypes() {
      return guarded(registry().listSchemaTypes);
    },

    async latestSchemaVersions() {
      return guarded(registry().latestSchemaVersions);
    },

    async compatibilityMode(type) {
      return guarded(() => registry().compatibilityMode(type));
    },

    async setCompatibilityMode(type, mode) {
      guarded(() => registry().setCompatibilityMode(type, mode));
    },

    async readSetting(name) {
      return guarded(() => registry().readSetting(name));
    },

    async writeSetting(name, value) {
      guarded(() => registry().writeSetting(name, value));
    },

    async readProjection(name) {
      return guarded(() => projections().readProjection(name));
    },

    async listProjections() {
      return guarded(projections().listProjections);
    },

    async createProjection(name, version) {
      return guarded(() => projections().createProjection(name, version));
    },

    async setProjectionStatus(name, status) {
      guarded(() => projections().setProjectionStatus(name, status));
    },

    async commitProjection(batch) {
      guarded(() => projections().commitProjection(batch));
    },

    async readProjectionStates(name, stateOptions = {}) {
      return guarded(() => projections().readProjectionStates(name, stateOptions));
    },

    async beginProjectionRebuild(name, version) {
      return guarded(() => projections().beginProjectionRebuild(name, version));
    },

    async finishProjectionRebuild(name, generation, states, resolved) {
      guarded(() => projections().finishProjectionRebuild(name, generation, states, resolved));
    },

    async abandonProjectionRebuild(name, generation) {
      guarded(() => projections().abandonProjectionRebuild(name, generation));
    },

    async readProjectionSnapshot(name, version, atOrBefore) {
      return guarded(() => projections().readProjectionSnapshot(name, version, atOrBefore));
    },

    async saveConsumerGroup(name, topic, handlerJson, owner) {
      return guarded(() => groups().saveConsumerGroup(name, topic, handlerJson, owner));
    },

    async readConsumerGroup(name) {
      return guarded(() => groups().readConsumerGroup(name));
    },

    async listConsumerGroups() {
      return guarded(groups().listConsumerGroups);
    },

    async acquireGroupLease(name, owner, ttlMs, takeOverFrom) {
      return guarded(() => groups().acquireGroupLease(name, owner, ttlMs, takeOverFrom));
    },

    async renewGroupLease(name, owner, ttlMs) {
      return guarded(() => groups().renewGroupLease(name, owner, ttlMs));
    },

    async releaseGroupLease(name, owner) {
      guarded(() => groups().releaseGroupLease(name, owner));
    },

    async commitConsumerCheckpoint(name, owner, position, commitOptions) {
      guarded(() => groups().commitConsumerCheckpoint(name, owner, position, commitOptions));
    },

    async parkDeadLetters(entries) {
      return guarded(() => deadLetters().parkDeadLetters(entries));
    },

    async listDeadLetters(filter, page) {
      return guarded(() => deadLetters().listDeadLetters(filter, page));
    },

    async countDeadLetters(filter) {
      return guarded(() => deadLetters().countDeadLetters(filter));
    },

    async readDeadLetter(id) {
      return guarded(() => deadLetters().readDeadLetter(id));
    },

    async claimDeadLetters(ids, owner, untilMs) {
      return guarded(() => deadLetters().claimDeadLetters(ids, owner, untilMs));
    },

    async finishRedrive(id: number, owner: string, result: RedriveResult, append?: NewEvent[]) {
      return guarded(() => {
        if (!append?.length) {
          db.transaction(() => deadLetters().finish(id, owner, result, null)).immediate();
          return [];
        }
        // The line's event and the entry's new status commit together: a crash leaves both undone.
        const tx = beginImmediate();
        try {
          appender().append(tx, append);
          return commit(tx, (results) => {
            if (!deadLetters().finish(id, owner, result, results[0]?.position ?? null)) {
              throw new EvlogError('conflict', `dead letter ${id} is no longer claimed by this redrive`, {
                hint: 'another redrive or a discard took it over; nothing was appended',
              });
            }
          });
        } catch (error) {
          rollback();
          throw error;
        }
      });
    },

    async releaseDeadLetterClaims(ids, owner) {
      guarded(() => deadLetters().releaseDeadLetterClaims(ids, owner));
    },

    async discardDeadLetters(ids) {
      return guarded(() => deadLetters().discardDeadLetters(ids));
    },

    watchCommits(onChange) {
      const stopWatching = guarded(() => watchCommits(db, path, onChange, watchOptions));
      const stop = () => {
        watchers.delete(stop);
        stopWatching();
      };
      watchers.add(stop);
      return stop;
    },

    close() {
      for (const stop of [...watchers]) stop();
      if (db.open) {
        if (db.inTransaction) rollback();
        db.close();
      }
    },
  };
}
