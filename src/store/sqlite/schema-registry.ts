import type { Database } from 'better-sqlite3';
import { EvlogError } from '../../errors.js';
import {
  type CompatibilityMode,
  DEFAULT_COMPATIBILITY_MODE,
  type RegisterSchemaOptions,
  type SchemaTypeSummary,
  type StoredSchema,
} from '../types.js';

/** The schema registry's tables: versions of each type's JSON Schema, modes, and settings. */
export function createSchemaRegistry(db: Database, clock: () => number) {
  const latestRow = db
    .prepare('SELECT version, document FROM schemas WHERE type = ? ORDER BY version DESC LIMIT 1')
    .raw();
  const oneVersion = db
    .prepare('SELECT version, document, registered_at FROM schemas WHERE type = ? AND version = ?')
    .raw();
  const allVersions = db
    .prepare('SELECT version, document, registered_at FROM schemas WHERE type = ? ORDER BY version')
    .raw();
  const insertSchema = db.prepare('INSERT INTO schemas (type, version, document, registered_at) VALUES (?, ?, ?, ?)');
  const latestVersions = db.prepare('SELECT type, max(version) FROM schemas GROUP BY type').raw();
  const versionsByType = db.prepare('SELECT type, version FROM schemas ORDER BY type, version').raw();
  const selectCompat = db.prepare('SELECT compat FROM schema_compat WHERE type = ?').pluck();
  const allCompat = db.prepare('SELECT type, compat FROM schema_compat').raw();
  const upsertCompat = db.prepare(
    'INSERT INTO schema_compat (type, compat) VALUES (?, ?) ON CONFLICT (type) DO UPDATE SET compat = excluded.compat',
  );
  const selectSetting = db.prepare('SELECT value FROM settings WHERE name = ?').pluck();
  const upsertSetting = db.prepare(
    'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
  );
  const deleteSetting = db.prepare('DELETE FROM settings WHERE name = ?');

  const toSchema = (type: string, row: [number, string, number]): StoredSchema => ({
    type,
    version: row[0],
    documentJson: row[1],
    registeredAt: row[2],
  });

  /**
   * Adds the next version, unless the document is the latest one already (then a no-op).
   * Runs in one write transaction, where the caller's view of the latest version is re-checked.
   */
  const register = db.transaction(
    (type: string, documentJson: string, options: RegisterSchemaOptions): { version: number; created: boolean } => {
      const latest = latestRow.get(type) as [number, string] | undefined;
      const latestVersion = latest?.[0] ?? 0;
      if (latest && latest[1] === documentJson) return { version: latestVersion, created: false };
      if (latestVersion !== options.expectedLatestVersion) {
        throw new EvlogError(
          'conflict',
          `${type}: version ${latestVersion} was registered while this schema was being checked against version ${options.expectedLatestVersion}`,
          { hint: 'run the command again: it checks against the new latest version' },
        );
      }
      const version = latestVersion + 1;
      insertSchema.run(type, version, documentJson, clock());
      if (options.compat) upsertCompat.run(type, options.compat);
      return { version, created: true };
    },
  );

  function registerSchema(type: string, documentJson: string, options: RegisterSchemaOptions) {
    return register.immediate(type, documentJson, options);
  }

  function readSchema(type: string, version?: number): StoredSchema | null {
    if (version === undefined) {
      const latest = latestRow.get(type) as [number, string] | undefined;
      if (!latest) return null;
      const row = oneVersion.get(type, latest[0]) as [number, string, number];
      return toSchema(type, row);
    }
    const row = oneVersion.get(type, version) as [number, string, number] | undefined;
    return row ? toSchema(type, row) : null;
  }

  function readSchemas(type: string): StoredSchema[] {
    return (allVersions.all(type) as [number, string, number][]).map((row) => toSchema(type, row));
  }

  function compatibilityMode(type: string): CompatibilityMode {
    return (selectCompat.get(type) as CompatibilityMode | undefined) ?? DEFAULT_COMPATIBILITY_MODE;
  }

  function setCompatibilityMode(type: string, mode: CompatibilityMode): void {
    upsertCompat.run(type, mode);
  }

  function listSchemaTypes(): SchemaTypeSummary[] {
    const byType = new Map<string, SchemaTypeSummary>();
    for (const [type, version] of versionsByType.all() as [string, number][]) {
      let summary = byType.get(type);
      if (!summary) {
        summary = { type, latestVersion: 0, versions: [], compat: DEFAULT_COMPATIBILITY_MODE };
        byType.set(type, summary);
      }
      summary.versions.push(version);
      summary.latestVersion = version;
    }
    // A mode set ahead of a type's first schema is kept, but the list is of schemas.
    for (const [type, compat] of allCompat.all() as [string, CompatibilityMode][]) {
      const summary = byType.get(type);
      if (summary) summary.compat = compat;
    }
    return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  function latestSchemaVersions(): Map<string, number> {
    return new Map(latestVersions.all() as [string, number][]);
  }

  function readSetting(name: string): string | null {
    return (selectSetting.get(name) as string | undefined) ?? null;
  }

  function writeSetting(name: string, value: string | null): void {
    if (value === null) deleteSetting.run(name);
    else upsertSetting.run(name, value);
  }

  return {
    registerSchema,
    readSchema,
    readSchemas,
    compatibilityMode,
    setCompatibilityMode,
    listSchemaTypes,
    latestSchemaVersions,
    readSetting,
    writeSetting,
  };
}
