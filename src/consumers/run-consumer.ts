import { EvlogError } from '../errors.js';
import type { RecordUpcaster } from '../schema/upcast.js';
import type { EventRecord, EventStore, NewDeadLetter } from '../store/index.js';
import { waitForCommit } from '../store/wait-for-commit.js';
import { type Deliver, type GroupSettings, settingsToJson } from './handler.js';
import { DEFAULT_LEASE_TTL_MS, describeHolder, keepLease, leaseOwnerId, tryAcquireLease } from './lease.js';

/** The longest pause between two attempts, however many there are. */
export const MAX_BACKOFF_MS = 60_000;

/** How many events are read from the store at a time. */
const PAGE_SIZE = 500;

/** Time as the runner sees it: injected in tests, so backoff can be checked without waiting. */
export interface RunnerClock {
  now(): number;
  /** Resolves after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: RunnerClock = {
  now: Date.now,
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** What happened to one event, as it happens: for progress output. */
export type ConsumeReport =
  | { kind: 'succeeded'; record: EventRecord; attempt: number }
  | { kind: 'retrying'; record: EventRecord; attempt: number; error: string; delayMs: number }
  | { kind: 'dead-lettered'; record: EventRecord; attempts: number; reason: string; error: string }
  | { kind: 'waiting'; holder: string; expiresAt: number }
  | { kind: 'caught-up'; checkpoint: number };

export interface ConsumeOptions {
  group: string;
  topic: string;
  settings: GroupSettings;
  /** Delivers one event once (see loadHandler). */
  deliver: Deliver;
  /** Keep consuming as events arrive; without it, stop when caught up. */
  follow?: boolean;
  /** Stop after this many events were done with (succeeded or dead-lettered). */
  limit?: number;
  /**
   * Move the checkpoint after every this many events (default 1: after each). More is faster
   * (one store write per n events instead of per event); a crash then delivers up to n again.
   * A dead letter, catching up, and stopping move it at once.
   */
  checkpointEvery?: number;
  /** Stops the run after the event in flight (Ctrl-C); the checkpoint stays right. */
  signal?: AbortSignal;
  /** The records' latest shape (the config's upcasters). */
  upcast?: RecordUpcaster;
  clock?: RunnerClock;
  leaseTtlMs?: number;
  onReport?: (report: ConsumeReport) => void;
}

export interface ConsumeSummary {
  group: string;
  topic: string;
  /** Events done with in this run: succeeded plus dead-lettered. */
  events: number;
  succeeded: number;
  deadLettered: number;
  /** Deliveries that failed and were tried again. */
  retries: number;
  checkpoint: number;
  /** Why the run ended. */
  stopped: 'caught-up' | 'limit' | 'signal';
}

type Outcome = { kind: 'succeeded' } | { kind: 'dead-lettered'; deadLetter: NewDeadLetter } | { kind: 'interrupted' };

/**
 * Runs a consumer group: delivers its topic's events after the checkpoint in position order,
 * at least once. An event is tried up to `maxAttempts` times, pausing `backoffMs`, then twice
 * that, … (at most MAX_BACKOFF_MS) between attempts; after the last it is dead-lettered. The
 * checkpoint moves after each event that succeeded or was dead-lettered, in the same
 * transaction as the dead letter, so a crash redelivers at most the event in flight.
 *
 * Only the holder of the group's lease delivers. A second process running the group waits
 * (with `follow`) or is refused; it takes over when the holder stops, dies, or lets the
 * lease expire.
 */
export async function runConsumer(store: EventStore, options: ConsumeOptions): Promise<ConsumeSummary> {
  const clock = options.clock ?? realClock;
  const signal = options.signal ?? new AbortController().signal;
  const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const { group, topic, settings } = options;
  const report = options.onReport ?? (() => {});
  const owner = leaseOwnerId();
  const summary: ConsumeSummary = {
    group,
    topic,
    events: 0,
    succeeded: 0,
    deadLettered: 0,
    retries: 0,
    checkpoint: 0,
    stopped: 'caught-up',
  };

  const handlerJson = settingsToJson(settings);
  // A new group is created as it is asked for; an existing one keeps its settings until this
  // process holds the lease: a process that is refused, or waits, changes nothing.
  if (!(await store.readConsumerGroup(group))) await store.saveConsumerGroup(group, topic, handlerJson);
  if (!(await acquire(store, options, owner, ttlMs, clock, signal, report))) {
    summary.stopped = 'signal';
    return summary;
  }
  const lease = keepLease(store, group, owner, ttlMs);
  const commits = options.follow ? waitForCommit(store) : undefined;
  try {
    // Saved and read after the lease is ours: the previous holder may have moved the checkpoint until then.
    summary.checkpoint = (await store.saveConsumerGroup(group, topic, handlerJson, owner)).checkpoint;
    const every = options.checkpointEvery ?? 1;
    let done = summary.checkpoint;
    let pending = 0;
    const commit = async (deadLetter?: NewDeadLetter) => {
      if (done === summary.checkpoint && !deadLetter) return;
      await store.commitConsumerCheckpoint(group, owner, done, { deadLetter, leaseTtlMs: ttlMs });
      summary.checkpoint = done;
      pending = 0;
    };
    const stop = async (stopped: ConsumeSummary['stopped']) => {
      await commit();
      return { ...summary, stopped };
    };
    for (;;) {
      const page = await store.readEvents({ topics: [topic] }, { direction: 'forward', after: done, limit: PAGE_SIZE });
      for (const stored of page) {
        if (signal.aborted) return await stop('signal');
        if (lease.lost()) throw leaseLost(group);
        const upcast = options.upcast ? upcastOrPark(stored, options.upcast, options, clock, report) : undefined;
        const record = upcast?.record ?? stored;
        const outcome = upcast?.parked ?? (await deliverWithRetries(record, options, clock, signal, summary, report));
        if (outcome.kind === 'interrupted') return await stop('signal');
        done = record.position;
        summary.events++;
        if (outcome.kind === 'succeeded') {
          summary.succeeded++;
          if (++pending >= every) await commit();
        } else {
          summary.deadLettered++;
          await commit(outcome.deadLetter);
        }
        if (options.limit !== undefined && summary.events >= options.limit) return await stop('limit');
      }
      if (page.length === PAGE_SIZE) continue;
      await commit();
      if (!commits) return summary;
      report({ kind: 'caught-up', checkpoint: summary.checkpoint });
      if (signal.aborted) return { ...summary, stopped: 'signal' };
      await untilAborted(commits.next(Math.floor(ttlMs / 3)), signal);
      if (signal.aborted) return { ...summary, stopped: 'signal' };
      if (lease.lost()) throw leaseLost(group);
    }
  } finally {
    lease.stop();
    commits?.stop();
    await store.releaseGroupLease(group, owner);
  }
}

function leaseLost(group: string): EvlogError {
  return new EvlogError('conflict', `consumer group "${group}" was taken over by another process`, {
    hint: 'this process stalled past its lease; the other one carries on from the checkpoint',
  });
}

/** Waits for `work` or the signal, whichever comes first, leaving no listener behind. */
function untilAborted(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    work.then(done, done);
  });
}

/** Takes the lease, waiting for it with `follow`; false when stopped while waiting. */
async function acquire(
  store: EventStore,
  options: ConsumeOptions,
  owner: string,
  ttlMs: number,
  clock: RunnerClock,
  signal: AbortSignal,
  report: (report: ConsumeReport) => void,
): Promise<boolean> {
  let reported = false;
  // Watching from before the first try: a release right after it still wakes this process.
  let commits: ReturnType<typeof waitForCommit> | undefined;
  try {
    for (;;) {
      if (signal.aborted) return false;
      const attempt = await tryAcquireLease(store, options.group, owner, ttlMs);
      if (attempt.acquired) return true;
      if (!options.follow) {
        const seconds = Math.max(0, Math.ceil((attempt.expiresAt - clock.now()) / 1000));
        throw new EvlogError(
          'conflict',
          `consumer group "${options.group}" is being consumed by ${describeHolder(attempt.holder)} (its lease runs ${seconds} s more unless renewed)`,
          { hint: 'with --follow this process waits and takes over when the other one stops' },
        );
      }
      commits ??= waitForCommit(store);
      if (!reported) report({ kind: 'waiting', holder: attempt.holder, expiresAt: attempt.expiresAt });
      reported = true;
      // A holder that stops releases the lease in a commit: wake on it. One that dies does not:
      // look again every second (a dead pid on this host, or the lease's end).
      await untilAborted(commits.next(Math.min(1000, Math.max(10, attempt.expiresAt - clock.now() + 1))), signal);
    }
  } finally {
    commits?.stop();
  }
}

/**
 * The record in its latest shape. An upcaster that throws on it would throw on every try, so
 * the event is dead-lettered at once (reason `invalid`, no delivery made) instead of stopping
 * the group at it forever; once the upcaster is fixed, `dlq redrive` delivers it.
 */
function upcastOrPark(
  stored: EventRecord,
  upcast: RecordUpcaster,
  options: ConsumeOptions,
  clock: RunnerClock,
  report: (report: ConsumeReport) => void,
): { record: EventRecord; parked?: Outcome } {
  try {
    return { record: upcast(stored) };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    report({ kind: 'dead-lettered', record: stored, attempts: 0, reason: 'invalid', error: text });
    return {
      record: stored,
      parked: {
        kind: 'dead-lettered',
        deadLetter: {
          source: 'consumer',
          group: options.group,
          position: stored.position,
          topic: stored.topic,
          type: stored.type,
          line: null,
          reason: 'invalid',
          error: text,
          attempts: 0,
          firstFailedAt: clock.now(),
        },
      },
    };
  }
}

async function deliverWithRetries(
  record: EventRecord,
  options: ConsumeOptions,
  clock: RunnerClock,
  signal: AbortSignal,
  summary: ConsumeSummary,
  report: (report: ConsumeReport) => void,
): Promise<Outcome> {
  const { maxAttempts, backoffMs, timeoutMs } = options.settings;
  let firstFailedAt: number | undefined;
  for (let attempt = 1; ; attempt++) {
    const result = await options.deliver(record, { group: options.group, attempt, timeoutMs });
    if (result.ok) {
      report({ kind: 'succeeded', record, attempt });
      return { kind: 'succeeded' };
    }
    firstFailedAt ??= clock.now();
    // A failure while stopping is not trusted: a service manager's SIGTERM reaches the handler
    // too. The event is left for the next run rather than dead-lettered or retried.
    if (signal.aborted) return { kind: 'interrupted' };
    if (attempt >= maxAttempts) {
      report({ kind: 'dead-lettered', record, attempts: attempt, reason: result.reason, error: result.error });
      return {
        kind: 'dead-lettered',
        deadLetter: {
          source: 'consumer',
          group: options.group,
          position: record.position,
          topic: record.topic,
          type: record.type,
          line: null,
          reason: result.reason,
          error: result.error,
          attempts: attempt,
          firstFailedAt,
        },
      };
    }
    const delayMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (attempt - 1));
    report({ kind: 'retrying', record, attempt, error: result.error, delayMs });
    summary.retries++;
    await clock.sleep(delayMs, signal);
    if (signal.aborted) return { kind: 'interrupted' };
  }
}
