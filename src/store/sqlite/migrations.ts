import type { Database } from 'better-sqlite3';

/**
 * Numbered migrations, applied in order inside one transaction each and recorded in
 * `PRAGMA user_version`. A released migration is never edited: add a new one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: the event log.
  `
  CREATE TABLE topics (
    topic_id INTEGER PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE
  );
  CREATE TABLE event_types (
    type_id INTEGER PRIMARY KEY,
    name    TEXT NOT NULL UNIQUE
  );
  -- One row per stream; key '' is the topic's keyless stream (keys are never empty).
  CREATE TABLE streams (
    stream_id     INTEGER PRIMARY KEY,
    topic_id      INTEGER NOT NULL REFERENCES topics (topic_id),
    key           TEXT NOT NULL,
    version       INTEGER NOT NULL,
    last_position INTEGER NOT NULL,
    UNIQUE (topic_id, key)
  );
  -- position is the rowid: the global order. Positions are assigned by the append
  -- transaction as head + 1, so they are gap-free.
  CREATE TABLE events (
    position       INTEGER PRIMARY KEY,
    id             NOT NULL, -- 16 bytes for a canonical UUID, else the text (event-id.ts)
    stream_id      INTEGER NOT NULL REFERENCES streams (stream_id),
    version        INTEGER NOT NULL,
    topic_id       INTEGER NOT NULL,
    type_id        INTEGER NOT NULL,
    schema_version INTEGER,
    time           INTEGER NOT NULL,
    data           TEXT NOT NULL,
    metadata       TEXT -- NULL when empty
  );
  CREATE UNIQUE INDEX events_by_id ON events (id);
  CREATE UNIQUE INDEX events_by_stream ON events (stream_id, version);
  -- An index also holds the rowid, so this reads as (topic_id, position): a topic in order.
  -- Types have no index: a type filter scans, which SQLite does at millions of rows a second,
  -- and every append would pay for it.
  CREATE INDEX events_by_topic ON events (topic_id);

  -- Events are immutable: the database itself refuses to change or delete them.
  CREATE TRIGGER events_are_immutable_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'evlog: events are immutable'); END;
  CREATE TRIGGER events_are_immutable_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'evlog: events are immutable'); END;

  CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: the schema registry. Versions of a type's JSON Schema (never changed once written),
  // and each type's compatibility mode; the store's `strict` flag lives in settings.
  `
  CREATE TABLE schemas (
    type          TEXT NOT NULL,
    version       INTEGER NOT NULL,
    document      TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (type, version)
  ) WITHOUT ROWID;
  CREATE TRIGGER schemas_are_immutable_update BEFORE UPDATE ON schemas
  BEGIN SELECT RAISE(ABORT, 'evlog: schema versions are immutable'); END;
  CREATE TRIGGER schemas_are_immutable_delete BEFORE DELETE ON schemas
  BEGIN SELECT RAISE(ABORT, 'evlog: schema versions are immutable'); END;
  CREATE TABLE schema_compat (
    type   TEXT PRIMARY KEY,
    compat TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 3: projections. One row per projection: the version its read model was built with, the
  // generation readers see, the checkpoint, status and last error, and a rebuild in progress
  // (a fresh generation, swapped in by updating \`generation\`). States per (name, generation,
  // key) as JSON; snapshots of all keys' states per (name, version, position).
  `
  CREATE TABLE projections (
    name               TEXT PRIMARY KEY,
    version            INTEGER NOT NULL,
    generation         INTEGER NOT NULL,
    checkpoint         INTEGER NOT NULL,
    status             TEXT NOT NULL,
    error              TEXT,
    error_position     INTEGER,
    heartbeat_at       INTEGER NOT NULL,
    rebuild_generation INTEGER,
    rebuild_version    INTEGER,
    rebuild_checkpoint INTEGER,
    rebuild_heartbeat_at INTEGER
  ) WITHOUT ROWID;
  CREATE TABLE projection_states (
    name       TEXT NOT NULL,
    generation INTEGER NOT NULL,
    key        TEXT NOT NULL,
    state      TEXT NOT NULL,
    PRIMARY KEY (name, generation, key)
  ) WITHOUT ROWID;
  CREATE TABLE projection_snapshots (
    name       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    position   INTEGER NOT NULL,
    states     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (name, version, position)
  ) WITHOUT ROWID;
  `,
  // 4: consumer groups and dead letters. A group: its topic, its handler (JSON that
  // src/consumers owns), its checkpoint, and the lease of the one process delivering to it.
  // A dead letter: what was parked, why, and its status; a redrive in flight holds a claim on
  // it (claim_owner until claimed_until). Entries are never deleted: discarding is a status.
  // Every redrive or discard adds a history row (`note`: why, when it was not a plain redrive,
  // e.g. a rebuild that applied the event).
  `
  CREATE TABLE consumer_groups (
    name             TEXT PRIMARY KEY,
    topic            TEXT NOT NULL,
    handler          TEXT NOT NULL,
    checkpoint       INTEGER NOT NULL,
    lease_owner      TEXT,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY,
    source          TEXT NOT NULL,
    grp             TEXT NOT NULL,
    position        INTEGER,
    topic           TEXT,
    type            TEXT,
    line            TEXT,
    line_defaults   TEXT,
    reason          TEXT NOT NULL,
    error           TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    first_failed_at INTEGER NOT NULL,
    last_failed_at  INTEGER NOT NULL,
    claim_owner     TEXT,
    claimed_until   INTEGER
  );
  -- The rowid rides along in every index: each reads as (..., id), a page in id order.
  CREATE INDEX dead_letters_by_status ON dead_letters (status);
  CREATE INDEX dead_letters_by_group ON dead_letters (grp, status);
  CREATE TABLE dead_letter_history (
    dead_letter_id INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    action         TEXT NOT NULL,
    error          TEXT,
    position       INTEGER,
    note           TEXT,
    PRIMARY KEY (dead_letter_id, seq)
  ) WITHOUT ROWID;
  `,
];

/** The schema version this evlog writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.length;

/** 'EVLG': marks the file as an evlog store (`PRAGMA application_id`). */
export const EVLOG_APPLICATION_ID = 0x45564c47;

/** Brings the store up to the latest schema. The caller has checked it is ours and not newer. */
export function migrate(db: Database): void {
  const run = db.transaction(() => {
    // Read again inside the write lock: another process may have migrated meanwhile.
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < LATEST_SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version] as string);
    }
    if (current < LATEST_SCHEMA_VERSION) {
      db.pragma(`application_id = ${EVLOG_APPLICATION_ID}`);
      db.pragma(`user_version = ${LATEST_SCHEMA_VERSION}`);
    }
  });
  run.immediate();
}
