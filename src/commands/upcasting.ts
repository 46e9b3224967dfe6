import { createRecordUpcaster, type RecordUpcaster } from '../schema/upcast.js';
import type { EventStore } from '../store/index.js';
import { type CommandContext, configFor } from './context.js';

/**
 * The upcaster for a read command's output, or undefined when there is nothing to upcast:
 * with --raw, in a store without schemas, or with no upcasters in the config. The config is
 * loaded only when the store has schemas.
 */
export async function recordUpcasterFor(
  context: CommandContext,
  store: EventStore,
  raw: boolean | undefined,
): Promise<RecordUpcaster | undefined> {
  if (raw) return undefined;
  const latestVersions = await store.latestSchemaVersions();
  if (latestVersions.size === 0) return undefined;
  const loaded = await configFor(context);
  const upcasters = loaded?.config.upcasters;
  if (!loaded || !upcasters || Object.keys(upcasters).length === 0) return undefined;
  return createRecordUpcaster(upcasters, latestVersions, loaded.path);
}
