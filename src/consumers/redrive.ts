import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type ConsumerDefinition, type EvlogConfig, loadConfig } from '../config/load-config.js';
import { EvlogError } from '../errors.js';
import { eventFromJson } from '../input/event-from-json.js';
import { parseJson } from '../input/parse-json.js';
import type { ProjectionDefinition } from '../projections/define-projection.js';
import { redriveProjectionEntry } from '../projections/redrive-projection.js';
import { createSchemaGuard, type SchemaGuard } from '../schema/schema-guard.js';
import { createRecordUpcaster, type RecordUpcaster } from '../schema/upcast.js';
import {
  type DeadLetter,
  type DeadLetterFilter,
  type EventStore,
  prepareEvent,
  type RedriveResult,
} from '../store/index.js';
import {
  DEFAULT_SETTINGS,
  type Deliver,
  type GroupSettings,
  handlerSpecFromDefinition,
  loadHandler,
  settingsFromJson,
} from './handler.js';

/**
 * What a redrive did with one entry: `redriven` (delivered, applied or appended; the entry is
 * marked so), `failed` (it failed again: still parked, attempts raised, `error` is the new
 * error), or `skipped` (nothing was done: the entry is not parked any more, or another redrive
 * holds it right now; `error` says which). The CLI prints `skipped` on stderr only, so its
 * `--json` lines keep the two outcomes of DESIGN.md.
 */
export interface RedriveOutcome {
  id: number;
  outcome: 'redriven' | 'failed' | 'skipped';
  error: string | null;
}

export interface RedriveOptions {
  /** The config (consumer groups without a record, projections, upcasters); loaded from `cwd` when absent. */
  config?: EvlogConfig;
  /** The config file: where to load it from, and how upcaster errors name it. */
  configPath?: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Output of `--exec` handlers (their stdout and stderr). */
  onOutput?: (chunk: Buffer) => void;
  /** Called as each entry is done, in order (for progress and per-entry output). */
  onOutcome?: (outcome: RedriveOutcome) => void;
  /** Stops before the next entry (the one in flight finishes, or its claim is released). */
  signal?: AbortSignal;
  /** The max event size for re-appended batch lines (default: the store's). */
  maxEventBytes?: number;
  clock?: () => number;
}

/** A claim outlives the delivery it covers: the handler's timeout (it is killed then) and this much more. */
const CLAIM_MARGIN_MS = 60_000;

/** The owner name of this process's claims: host, pid and a random part (two redrives in one process differ). */
export function redriveOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Why an entry is not redriven: it is not parked any more. */
function notParked(entry: DeadLetter): string {
  return entry.status === 'redriven' ? 'already redriven' : 'discarded';
}

/**
 * Delivers dead letters again, once each, right away, and records each result: the consumer
 * group's handler gets the event (attempt = its attempts + 1), a projection applies it to the
 * current state of its key (its checkpoint does not move), a batch line is validated and
 * appended. Unknown ids are refused (`not_found`) before anything is done, and so is an entry
 * whose handler or projection cannot be found. Each entry is claimed just before its delivery
 * and finished (or released) right after, so running the same redrive twice, or two at once,
 * never delivers an entry twice: an entry that is not parked, or claimed by another redrive, is
 * `skipped`. There are no retries inside a redrive.
 *
 * @example
 * const outcomes = await redriveDeadLetters(store, [3, 4], { cwd: process.cwd(), env: process.env });
 * // [{ id: 3, outcome: 'redriven', error: null }, { id: 4, outcome: 'failed', error: 'exited with code 1: smtp down' }]
 */
export async function redriveDeadLetters(
  store: EventStore,
  ids: readonly number[],
  options: RedriveOptions,
): Promise<RedriveOutcome[]> {
  const entries = await findEntries(store, ids);
  const targets = await resolveTargets(store, entries, options);
  const owner = redriveOwner();
  const clock = options.clock ?? Date.now;
  const outcomes: RedriveOutcome[] = [];
  const report = (outcome: RedriveOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };
  for (const listed of entries) {
    if (options.signal?.aborted) break;
    if (listed.status !== 'parked') {
      report({ id: listed.id, outcome: 'skipped', error: notParked(listed) });
      continue;
    }
    const timeoutMs = targets.timeoutOf(listed);
    const [entry] = await store.claimDeadLetters([listed.id], owner, clock() + timeoutMs + CLAIM_MARGIN_MS);
    if (!entry) {
      const now = await store.readDeadLetter(listed.id);
      report({
        id: listed.id,
        outcome: 'skipped',
        error: now && now.status !== 'parked' ? notParked(now) : 'claimed by another redrive in progress',
      });
      continue;
    }
    let finished = false;
    try {
      const outcome = await redriveOne(store, entry, owner, targets);
      finished = true;
      report(outcome);
    } finally {
      // Interrupted (or the store refused): give the claim up so the entry can be redriven again.
      if (!finished) await store.releaseDeadLetterClaims([entry.id], owner).catch(() => {});
    }
  }
  return outcomes;
}

/** Discarding: entries keep their row and history, marked `discarded`. */
export interface DiscardOutcome {
  id: number;
  outcome: 'discarded' | 'skipped';
  /** Why it was skipped: already redriven, already discarded, or claimed by a redrive in progress. */
  reason: string | null;
}

/**
 * Marks parked entries discarded (kept for the audit trail, with a history line). Unknown ids
 * are refused (`not_found`) before anything is done; entries not parked, or claimed by a
 * redrive in progress, are skipped, so discarding twice changes nothing.
 *
 * @example await discardDeadLetters(store, [7]); // [{ id: 7, outcome: 'discarded', reason: null }]
 */
export async function discardDeadLetters(store: EventStore, ids: readonly number[]): Promise<DiscardOutcome[]> {
  const entries = await findEntries(store, ids);
  const discarded = new Set(
    await store.discardDeadLetters(entries.filter((e) => e.status === 'parked').map((e) => e.id)),
  );
  return entries.map((entry) => {
    if (discarded.has(entry.id)) return { id: entry.id, outcome: 'discarded', reason: null };
    const reason = entry.status === 'parked' ? 'claimed by a redrive in progress' : notParked(entry);
    return { id: entry.id, outcome: 'skipped', reason };
  });
}

/**
 * Every entry matching the filter, a page at a time (by id), so that `--all` over a million
 * entries holds one page in memory. Entries changed while paging are seen as they are when read.
 */
export async function* deadLetterPages(
  store: EventStore,
  filter: DeadLetterFilter,
  pageSize = 500,
): AsyncGenerator<DeadLetter[]> {
  let afterId: number | undefined;
  for (;;) {
    const page = await store.listDeadLetters(filter, { limit: pageSize, afterId });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    afterId = page[page.length - 1]?.id;
  }
}

/** The entries of `ids` in the order given (duplicates once); unknown ids are a not-found error. */
async function findEntries(store: EventStore, ids: readonly number[]): Promise<DeadLetter[]> {
  const unique = [...new Set(ids)];
  const found = new Map<number, DeadLetter>();
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    for (const entry of await store.listDeadLetters({ ids: chunk }, { limit: chunk.length })) {
      found.set(entry.id, entry);
    }
  }
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new EvlogError(
      'not_found',
      `no dead letter${missing.length === 1 ? '' : 's'} with id ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`,
      { hint: 'list them with `evlog dlq list` (add --status redriven or discarded for the others)' },
    );
  }
  return unique.map((id) => found.get(id) as DeadLetter);
}

interface Targets {
  timeoutOf(entry: DeadLetter): number;
  consumer(group: string): { deliver: Deliver; settings: GroupSettings };
  projection(name: string): ProjectionDefinition;
  upcast: RecordUpcaster | undefined;
  guard(): Promise<SchemaGuard>;
  maxEventBytes: number | undefined;
}

/**
 * Everything the parked entries need, found before any is claimed: each consumer group's
 * handler (loaded once), each projection's definition, the upcasters. A group or projection
 * that cannot be found stops the redrive before anything is delivered.
 */
async function resolveTargets(store: EventStore, entries: DeadLetter[], options: RedriveOptions): Promise<Targets> {
  const parked = entries.filter((e) => e.status === 'parked');
  let config = options.config;
  let configPath = options.configPath;
  let configLoaded = config !== undefined;
  const needConfig = async (): Promise<EvlogConfig | undefined> => {
    if (!configLoaded) {
      const loaded = await loadConfig({ cwd: options.cwd, configPath: options.configPath });
      config = loaded?.config;
      configPath = loaded?.path;
      configLoaded = true;
    }
    return config;
  };

  const consumers = new Map<string, { deliver: Deliver; settings: GroupSettings }>();
  for (const group of new Set(parked.filter((e) => e.source === 'consumer').map((e) => e.group))) {
    const settings = await groupSettings(store, group, needConfig);
    const deliver = await loadHandler(settings.handler, {
      env: options.env,
      cwd: options.cwd,
      onOutput: options.onOutput,
    });
    consumers.set(group, { deliver, settings });
  }

  const projections = new Map<string, ProjectionDefinition>();
  for (const name of new Set(parked.filter((e) => e.source === 'projection').map((e) => e.group))) {
    const definition = ((await needConfig())?.projections ?? []).find((p) => p.name === name);
    if (!definition) {
      throw new EvlogError('not_found', `no projection "${name}" in ${configPath ?? 'the config (there is none)'}`, {
        hint: 'redrive its dead letters with the config that declares it (--config <file>)',
      });
    }
    projections.set(name, definition as ProjectionDefinition);
  }

  // Events are upcast as consumers and projections see them, when the store has schemas.
  let upcast: RecordUpcaster | undefined;
  if (parked.some((e) => e.source !== 'append')) {
    const latest = await store.latestSchemaVersions();
    if (latest.size > 0) {
      const upcasters = (await needConfig())?.upcasters;
      if (upcasters && Object.keys(upcasters).length > 0) upcast = createRecordUpcaster(upcasters, latest, configPath);
    }
  }

  let guard: Promise<SchemaGuard> | undefined;
  return {
    timeoutOf: (entry) => consumers.get(entry.group)?.settings.timeoutMs ?? DEFAULT_SETTINGS.timeoutMs,
    consumer: (group) => consumers.get(group) as { deliver: Deliver; settings: GroupSettings },
    projection: (name) => projections.get(name) as ProjectionDefinition,
    upcast,
    guard: () => {
      guard ??= createSchemaGuard(store);
      return guard;
    },
    maxEventBytes: options.maxEventBytes,
  };
}

/** The group's settings as it last ran (its record), or as the config declares it. */
async function groupSettings(
  store: EventStore,
  group: string,
  needConfig: () => Promise<EvlogConfig | undefined>,
): Promise<GroupSettings> {
  const record = await store.readConsumerGroup(group);
  if (record) return settingsFromJson(record.handlerJson, group);
  const declared = ((await needConfig())?.consumers ?? []).find((c: ConsumerDefinition) => c.name === group);
  if (!declared) {
    throw new EvlogError(
      'not_found',
      `consumer group "${group}" has no handler: it is neither in the store nor in the config`,
      {
        hint: `run \`evlog consume ${group} --topic <t> --exec <cmd>\` once, or declare it in the config's consumers`,
      },
    );
  }
  return {
    handler: handlerSpecFromDefinition(declared),
    maxAttempts: declared.maxAttempts ?? DEFAULT_SETTINGS.maxAttempts,
    backoffMs: declared.backoffMs ?? DEFAULT_SETTINGS.backoffMs,
    timeoutMs: declared.timeoutMs ?? DEFAULT_SETTINGS.timeoutMs,
  };
}

/** One claimed entry: delivered once, and its result recorded (which also releases the claim). */
async function redriveOne(
  store: EventStore,
  entry: DeadLetter,
  owner: string,
  targets: Targets,
): Promise<RedriveOutcome> {
  let result: RedriveResult;
  if (entry.source === 'append') return redriveLine(store, entry, owner, targets);
  if (entry.source === 'projection') {
    try {
      result = await redriveProjectionEntry(store, targets.projection(entry.group), entry, owner, targets.upcast);
    } catch (error) {
      // The store refused (a runner holds the projection, or the claim was lost): nothing was written.
      if (!(error instanceof EvlogError) || error.code !== 'conflict') throw error;
      await store.releaseDeadLetterClaims([entry.id], owner);
      return { id: entry.id, outcome: 'skipped', error: error.message };
    }
    // Success was recorded with the state; a failure is recorded here.
    if (!result.ok) await store.finishRedrive(entry.id, owner, result);
  } else {
    const { deliver, settings } = targets.consumer(entry.group);
    const record = await readEventAt(store, entry);
    const delivered = await deliver(targets.upcast ? targets.upcast(record) : record, {
      group: entry.group,
      attempt: entry.attempts + 1,
      timeoutMs: settings.timeoutMs,
    });
    result = delivered.ok ? { ok: true } : { ok: false, reason: delivered.reason, error: delivered.error };
    await store.finishRedrive(entry.id, owner, result);
  }
  return result.ok
    ? { id: entry.id, outcome: 'redriven', error: null }
    : { id: entry.id, outcome: 'failed', error: result.error };
}

async function readEventAt(store: EventStore, entry: DeadLetter) {
  const position = entry.position ?? 0;
  const [record] = await store.readEvents(
    { fromPosition: position, untilPosition: position },
    { direction: 'forward', limit: 1 },
  );
  if (!record) throw new EvlogError('not_found', `dead letter ${entry.id}: no event at position ${position}`);
  return record;
}

/** The text of an error for the entry: its message and detail lines. */
function errorText(error: EvlogError): string {
  return [error.message, ...error.details].join('\n');
}

/**
 * A parked batch line: parsed and checked again as `append --batch` does (its stored topic is
 * the default), then appended and marked redriven in one transaction; still invalid: failed.
 */
async function redriveLine(
  store: EventStore,
  entry: DeadLetter,
  owner: string,
  targets: Targets,
): Promise<RedriveOutcome> {
  let event: ReturnType<typeof eventFromJson>;
  try {
    const defaults = { topic: entry.topic ?? undefined, ...entry.lineDefaults };
    event = eventFromJson(parseJson(entry.line ?? '', 'the line'), defaults, false);
    const checked = (await targets.guard()).check(event);
    event = checked instanceof Promise ? await checked : checked;
    prepareEvent(event, targets.maxEventBytes);
  } catch (error) {
    if (!(error instanceof EvlogError)) throw error;
    const text = errorText(error);
    await store.finishRedrive(entry.id, owner, { ok: false, reason: 'invalid', error: text });
    return { id: entry.id, outcome: 'failed', error: text };
  }
  try {
    await store.finishRedrive(entry.id, owner, { ok: true }, [event]);
    return { id: entry.id, outcome: 'redriven', error: null };
  } catch (error) {
    if (!(error instanceof EvlogError)) throw error;
    // Rolled back: nothing was appended. Another process finished the entry, or the append
    // itself was refused (an expected version, an id reused with other content).
    const now = await store.readDeadLetter(entry.id);
    if (now && now.status !== 'parked') return { id: entry.id, outcome: 'skipped', error: notParked(now) };
    const text = errorText(error);
    await store.finishRedrive(entry.id, owner, { ok: false, reason: 'invalid', error: text });
    return { id: entry.id, outcome: 'failed', error: text };
  }
}
