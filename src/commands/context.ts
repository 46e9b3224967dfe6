import type { Readable, Writable } from 'node:stream';
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
  json?: boolean;
  color?: boolean;
  quiet?: boolean;
}

export interface CommandContext {
  io: CommandIo;
  globals: GlobalOptions;
}

/** `--db` > `EVLOG_DB` > `./evlog.db`. */
export function resolveStorePath(context: CommandContext): string {
  return context.globals.db ?? context.io.env.EVLOG_DB ?? 'evlog.db';
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
export function openStoreFor(context: CommandContext, options: { create: boolean }): EventStore {
  return openStore(resolveStorePath(context), {
    create: options.create,
    maxEventBytes: maxEventBytesFor(context),
    clock: context.io.now,
    watch: context.io.env.EVLOG_WATCH === 'poll' ? { useFileWatch: false } : {},
  });
}

/** Opens the store, runs `work`, and always closes it. */
export async function withStore<T>(
  context: CommandContext,
  options: { create: boolean },
  work: (store: EventStore) => Promise<T>,
): Promise<T> {
  const store = openStoreFor(context, options);
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
