import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import type { Upcasters } from '../schema/upcast.js';

/** The names looked for, in this order, in the current folder and then each folder above. */
export const CONFIG_FILE_NAMES = ['evlog.config.mjs', 'evlog.config.js', 'evlog.config.json'] as const;

/**
 * The config file's default export: a plain object. Keys this evlog does not know yet
 * (`projections`, `consumers`, …) are kept as they are.
 */
export interface EvlogConfig {
  /** The store, relative to the config file's folder (after --db and EVLOG_DB). */
  db?: string;
  /** Per event type, per version N: a pure function turning version N data into version N+1. */
  upcasters?: Upcasters;
  [key: string]: unknown;
}

/**
 * Only adds types: a config works without importing evlog.
 *
 * @example
 * export default defineConfig({ upcasters: { OrderPlaced: { 1: (data) => ({ ...data, channel: 'web' }) } } });
 */
export function defineConfig<T extends EvlogConfig>(config: T): T {
  return config;
}

export interface LoadedConfig {
  path: string;
  config: EvlogConfig;
}

const upcasterFunction = z.custom<(data: never) => unknown>(
  (value) => typeof value === 'function',
  'must be a function (data) => data',
);

const configSchema = z.looseObject({
  db: z.optional(z.string().check(z.minLength(1, 'cannot be empty'))),
  upcasters: z.optional(
    z.record(
      z.string(),
      z.record(z.string(), upcasterFunction).check(
        z.refine((steps) => Object.keys(steps).every((key) => /^[1-9]\d*$/.test(key)), {
          message: 'keys must be the versions the upcasters read: 1, 2, …',
        }),
      ),
    ),
  ),
});

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The config file for `cwd`: in it or the nearest folder above that has one. */
export function findConfigFile(cwd: string): string | undefined {
  let folder = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const path = join(folder, name);
      if (isFile(path)) return path;
    }
    const parent = dirname(folder);
    if (parent === folder) return undefined;
    folder = parent;
  }
}

/**
 * Loads and checks the config: `configPath` (from --config) or the one found from `cwd`
 * upwards; undefined when there is none. A config that cannot be loaded, or has the wrong
 * shape, is a usage error naming the file and the problem.
 */
export async function loadConfig(options: { cwd: string; configPath?: string }): Promise<LoadedConfig | undefined> {
  const path = options.configPath ? resolve(options.cwd, options.configPath) : findConfigFile(options.cwd);
  if (path === undefined) return undefined;
  if (options.configPath && !isFile(path)) {
    throw new EvlogError('usage', `--config: no file at ${path}`);
  }
  let exported: unknown;
  try {
    if (path.endsWith('.json')) exported = JSON.parse(readFileSync(path, 'utf8'));
    else exported = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new EvlogError('usage', `cannot load the config ${path}: ${error instanceof Error ? error.message : error}`, {
      hint: 'a config is a module whose default export is a plain object, or a JSON file',
    });
  }
  if (exported === null || typeof exported !== 'object' || Array.isArray(exported)) {
    throw new EvlogError('usage', `the config ${path} must export a plain object (export default { … })`);
  }
  const result = configSchema.safeParse(exported);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    throw new EvlogError('usage', `the config ${path} is not valid: ${problems[0]}`, { details: problems.slice(1) });
  }
  const config = result.data as EvlogConfig;
  if (config.db !== undefined) config.db = resolve(dirname(path), config.db);
  return { path, config };
}
