/**
 * evlog as a library: the same store, with the same semantics, as the CLI.
 *
 * @example
 * import { openStore } from 'evlog';
 * const store = openStore('./evlog.db');
 * const [result] = await store.appendEvents([{ topic: 'orders', key: 'order-17', type: 'OrderPlaced', data: { total: 12.5 } }]);
 */

export { defineConfig, type EvlogConfig, findConfigFile, type LoadedConfig, loadConfig } from './config/load-config.js';
export * from './consumers/index.js';
export { type ErrorCode, EvlogError, isEvlogError } from './errors.js';
export * from './projections/index.js';
export {
  type ChangeKind,
  type CompatibilityReason,
  canRead,
  checkCompatibility,
  describeChange,
  diffSchemas,
  INCOMPATIBLE,
  type JsonSchema,
  type SchemaChange,
} from './schema/compatibility.js';
export {
  checkSchemaChange,
  registerSchema,
  type SchemaChangeReport,
} from './schema/register-schema.js';
export { createSchemaGuard, type SchemaGuard, STRICT_SETTING, withSchemaValidation } from './schema/schema-guard.js';
export {
  createRecordUpcaster,
  type RecordUpcaster,
  type Upcaster,
  type Upcasters,
  upcastData,
  upcastTarget,
} from './schema/upcast.js';
export * from './store/index.js';
