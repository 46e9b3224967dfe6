import type { Readable, Writable } from 'node:stream';
import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { EvlogError } from '../errors.js';
import { type EventStore, openStore } from '../store/index.js';

/** The process's streams and surroundings, passed in so tests can drive commands in-process. */
export interface CommandIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  cwd: string;
  /** ms since the epoch; injectable for tests. */
  now: () => number;
}

/** Global options (DESIGN.md, "Commands"), shared by every command. */
export interface GlobalOptions {
  db?: string;
  config?: string;
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export interface CommandContext {
  io: CommandIo;
  globals: GlobalOptions;
}

const loadedConfigs = new WeakMap<CommandContext, Promise<LoadedConfig | undefined>>();

/** The config file (--config, or the nearest evlog.config.* from the cwd up), loaded once per command. */
export function configFor(context: CommandContext): Promise<LoadedConfig | undefined> {
  let loaded = loadedConfigs.get(context);
  if (!loaded) {
    loaded = loadConfig({ cwd: context.io.cwd, configPath: context.globals.config });
    loadedConfigs.set(context, loaded);
  }
  return loaded;
}

/**
 * `--db` > `EVLOG_DB` > `db` in the config file > `./evlog.db`. The config is looked for only
 * when neither of the first two is given.
 */
export async function resolveStorePath(context: CommandContext): Promise<string> {
  const chosen = context.globals.db ?? context.io.env.EVLOG_DB;
  if (chosen !== undefined) return chosen;
  return (await configFor(context))?.config.db ?? 'evlog.db';
}

/** The event size limit: EVLOG_MAX_EVENT_BYTES, or the store's default of 1 MiB. */
export function maxEventBytesFor(context: CommandContext): number | undefined {
  const limit = context.io.env.EVLOG_MAX_EVENT_BYTES;
  if (limit === undefined || limit === '') return undefined;
  const bytes = Number(limit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new EvlogError('usage', `EVLOG_MAX_EVENT_BYTES must be a positive whole number of bytes, got "${limit}"`);
  }
  return bytes;
}

/** Opens the store; `create` only for commands that write. Read commands never create a file. */
export async function openStoreFor(
  context: CommandContext,
  options: { create: boolean; durability?: 'full' | 'process'; busyTimeoutMs?: number },
): Promise<EventStore> {
  return openStore(await resolveStorePath(context), {
    create: options.create,
    durability: options.durability,
    busyTimeoutMs: options.busyTimeoutMs,
    maxEventBytes: maxEventBytesFor(context),
    clock: context.io.now,
    watch: context.io.env.EVLOG_WATCH === 'poll' ? { useFileWatch: false } : {},
  });
}

/** Opens the store, runs `work`, and always closes it. */
export async function withStore<T>(
  context: CommandContext,
  options: { create: boolean; durability?: 'full' | 'process'; busyTimeoutMs?: number },
  work: (store: EventStore) => Promise<T>,
): Promise<T> {
  const store = await openStoreFor(context, options);
  try {
    return await work(store);
  } finally {
    store.close();
  }
}

/** True when output should be machine-readable JSON. */
export function wantsJson(context: CommandContext): boolean {
  return context.globals.json === true;
}
