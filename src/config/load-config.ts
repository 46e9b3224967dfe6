import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import type { ProjectionDefinition } from '../projections/define-projection.js';
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
  /** Projections: plain objects `{ name, version, topics?, types?, key?, initialState, evolve }`. */
  // biome-ignore lint/suspicious/noExplicitAny: each projection has its own state type
  projections?: ProjectionDefinition<any>[];
  /** Consumer groups: what `evlog consume <name>` runs when the command line does not say. */
  consumers?: ConsumerDefinition[];
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

/**
 * A consumer group declared in the config: its topic and handler (a shell command, or a
 * module path relative to the config file), and its delivery settings.
 */
export interface ConsumerDefinition {
  name: string;
  topic: string;
  exec?: string;
  handler?: string;
  maxAttempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  /** Set by loadConfig: the config file's folder, where `exec` runs. */
  cwd?: string;
}

export interface LoadedConfig {
  path: string;
  config: EvlogConfig;
}

/**
 * The config's shape, built on first use: most commands never read a config, and building
 * zod schemas costs start-up time.
 */
function buildConfigSchema() {
  const upcasterFunction = z.custom<(data: never) => unknown>(
    (value) => typeof value === 'function',
    'must be a function (data) => data',
  );

  const aFunction = (what: string) =>
    z.custom<() => unknown>((value) => typeof value === 'function', `must be ${what}`);
  const names = z.array(z.string().check(z.minLength(1, 'cannot be empty')));

  const projectionSchema = z.looseObject({
    name: z.string().check(z.regex(/^[A-Za-z0-9][\w.-]*$/, 'must be a name of letters, digits, -, _ or .')),
    version: z.number().check(z.int('must be a whole number'), z.positive('must be 1 or more')),
    topics: z.optional(names),
    types: z.optional(names),
    key: z.optional(aFunction('a function (event) => key')),
    initialState: aFunction('a function () => state'),
    evolve: aFunction('a function (state, event) => state'),
    snapshotEvery: z.optional(z.number().check(z.int('must be a whole number'), z.positive('must be 1 or more'))),
    onError: z.optional(z.enum(['fail', 'dead-letter'], "must be 'fail' or 'dead-letter'")),
  });

  const wholeNumber = (minimum: number) =>
    z.number().check(z.int('must be a whole number'), z.gte(minimum, `must be ${minimum} or more`));
  const consumerSchema = z
    .object({
      name: z.string().check(z.regex(/^[A-Za-z0-9][\w.-]*$/, 'must be a name of letters, digits, -, _ or .')),
      topic: z.string().check(z.minLength(1, 'cannot be empty')),
      exec: z.optional(z.string().check(z.minLength(1, 'cannot be empty'))),
      handler: z.optional(z.string().check(z.minLength(1, 'cannot be empty'))),
      maxAttempts: z.optional(wholeNumber(1)),
      backoffMs: z.optional(wholeNumber(0)),
      timeoutMs: z.optional(wholeNumber(1)),
    })
    .check(
      z.refine((c) => (c.exec === undefined) !== (c.handler === undefined), {
        message: 'needs exactly one of exec (a shell command) or handler (a module path)',
      }),
    );

  return z.looseObject({
    projections: z.optional(
      z.array(projectionSchema).check(
        z.refine((list) => new Set(list.map((p) => p.name)).size === list.length, {
          message: 'two projections have the same name',
        }),
      ),
    ),
    consumers: z.optional(
      z.array(consumerSchema).check(
        z.refine((list) => new Set(list.map((c) => c.name)).size === list.length, {
          message: 'two consumers have the same name',
        }),
      ),
    ),
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
}

let configSchema: ReturnType<typeof buildConfigSchema> | undefined;

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
  configSchema ??= buildConfigSchema();
  const result = configSchema.safeParse(exported);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    throw new EvlogError('usage', `the config ${path} is not valid: ${problems[0]}`, { details: problems.slice(1) });
  }
  const config = result.data as EvlogConfig;
  if (config.db !== undefined) config.db = resolve(dirname(path), config.db);
  for (const consumer of config.consumers ?? []) {
    if (consumer.handler !== undefined) consumer.handler = resolve(dirname(path), consumer.handler);
    consumer.cwd = dirname(path);
  }
  return { path, config };
}
