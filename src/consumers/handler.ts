import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EvlogError } from '../errors.js';
import { formatEventJson } from '../output/format-event.js';
import type { EventRecord, JsonObject, StoredEvent } from '../store/index.js';

/**
 * What a group delivers to, as the store remembers it (`handlerJson`): a shell command with
 * the folder it runs in (where it was given, so `./send-mail.sh` means the same file whoever
 * runs the group or redrives its entries later, from wherever), or a module's absolute path.
 */
export type HandlerSpec = { exec: string; cwd?: string } | { module: string };

/** How long a delivery may take before it counts as failed (reason `timeout`). */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The last part of a failing command's stderr kept as the error text. */
const STDERR_TAIL_BYTES = 4096;

/** How long a timed-out command gets between SIGTERM and SIGKILL. */
const KILL_GRACE_MS = 2000;

export type DeliveryResult = { ok: true } | { ok: false; reason: 'handler-failed' | 'timeout'; error: string };

/** What a module handler receives besides the event. */
export interface HandlerContext {
  group: string;
  /** 1 for the first delivery of this event, 2 for the first retry, … */
  attempt: number;
  /** Aborted when the attempt times out: stop work that is no longer wanted. */
  signal: AbortSignal;
}

/** A module handler: its default export. Resolve to succeed; throw (or reject) to fail. */
export type ModuleHandler = (event: StoredEvent, context: HandlerContext) => unknown;

export interface Delivery {
  group: string;
  attempt: number;
  timeoutMs: number;
}

/** Delivers one event once; never throws for a handler's failure, only reports it. */
export type Deliver = (record: EventRecord, delivery: Delivery) => Promise<DeliveryResult>;

/** A group's handler and delivery settings: what it last ran with, kept in the store as JSON. */
export interface GroupSettings {
  handler: HandlerSpec;
  /** Deliveries per event before it is dead-lettered (1: no retry). */
  maxAttempts: number;
  /** The first retry's pause; each next one doubles it. */
  backoffMs: number;
  /** Per attempt. */
  timeoutMs: number;
}

export const DEFAULT_SETTINGS: Omit<GroupSettings, 'handler'> = {
  maxAttempts: 5,
  backoffMs: 200,
  timeoutMs: DEFAULT_TIMEOUT_MS,
};

export function settingsToJson(settings: GroupSettings): string {
  const { handler, ...rest } = settings;
  return JSON.stringify({ ...handler, ...rest });
}

export function settingsFromJson(json: string, group: string): GroupSettings {
  let value: Record<string, unknown> | undefined;
  try {
    value = JSON.parse(json) as Record<string, unknown>;
  } catch {
    value = undefined;
  }
  const handler: HandlerSpec | undefined =
    typeof value?.exec === 'string'
      ? typeof value.cwd === 'string'
        ? { exec: value.exec, cwd: value.cwd }
        : { exec: value.exec }
      : typeof value?.module === 'string'
        ? { module: value.module }
        : undefined;
  if (!value || !handler) {
    throw new EvlogError('failure', `consumer group "${group}" has an unreadable handler in the store: ${json}`, {
      hint: `run \`evlog consume ${group}\` once with --exec or --handler to set it again`,
    });
  }
  const number = (key: keyof typeof DEFAULT_SETTINGS) =>
    typeof value[key] === 'number' ? (value[key] as number) : DEFAULT_SETTINGS[key];
  return {
    handler,
    maxAttempts: number('maxAttempts'),
    backoffMs: number('backoffMs'),
    timeoutMs: number('timeoutMs'),
  };
}

/** What a group's handler was given on the command line: a command, or a module path made absolute. */
export function handlerSpecFromOptions(options: { exec?: string; handler?: string; cwd: string }): HandlerSpec | null {
  if (options.exec !== undefined && options.handler !== undefined) {
    throw new EvlogError('usage', 'give either --exec or --handler, not both', {
      hint: '--exec runs a shell command per event; --handler imports a JS module once and calls it per event',
    });
  }
  if (options.exec !== undefined) return { exec: options.exec, cwd: options.cwd };
  if (options.handler !== undefined) return { module: resolve(options.cwd, options.handler) };
  return null;
}

/** The handler a config's `consumers` entry names (loadConfig made its paths absolute). */
export function handlerSpecFromDefinition(declared: { exec?: string; handler?: string; cwd?: string }): HandlerSpec {
  if (declared.exec === undefined) return { module: declared.handler as string };
  return declared.cwd === undefined ? { exec: declared.exec } : { exec: declared.exec, cwd: declared.cwd };
}

/** The delivery function for a spec: a module is imported once, here. */
export async function loadHandler(
  spec: HandlerSpec,
  options: { env: NodeJS.ProcessEnv; cwd: string; onOutput?: (chunk: Buffer) => void },
): Promise<Deliver> {
  if ('exec' in spec) return execDeliver(spec.exec, { ...options, cwd: spec.cwd ?? options.cwd });
  return moduleDeliver(await importModuleHandler(spec.module));
}

async function importModuleHandler(path: string): Promise<ModuleHandler> {
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String(error).includes(path);
    throw new EvlogError(
      missing ? 'not_found' : 'usage',
      missing
        ? `no handler module at ${path}`
        : `cannot load the handler ${path}: ${error instanceof Error ? error.message : error}`,
      { hint: 'a handler is a module whose default export is an async function (event, context)' },
    );
  }
  if (typeof module.default !== 'function') {
    throw new EvlogError('usage', `the handler ${path} has no default export function`, {
      hint: 'export default async function (event, context) { … }',
    });
  }
  return module.default as ModuleHandler;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? String(error));
}

const SUCCEEDED: DeliveryResult = { ok: true };

/**
 * The event a module handler receives: data and metadata are parsed when first read, so a
 * handler that routes on the type alone never pays for JSON it does not look at. Both are
 * plain enumerable properties once read (and for JSON.stringify or a spread).
 */
function handlerEvent(record: EventRecord): StoredEvent {
  const { dataJson, metadataJson, ...envelope } = record;
  let data: unknown;
  let metadata: JsonObject | undefined;
  let dataRead = false;
  return {
    ...envelope,
    get data() {
      if (!dataRead) {
        data = JSON.parse(dataJson);
        dataRead = true;
      }
      return data;
    },
    set data(value) {
      data = value;
      dataRead = true;
    },
    get metadata() {
      metadata ??= JSON.parse(metadataJson) as JsonObject;
      return metadata;
    },
    set metadata(value) {
      metadata = value;
    },
  };
}

/**
 * Calls the module's function per event. One timer serves every delivery (re-armed with
 * `refresh()`), and the AbortController is made only when the handler reads its signal: at
 * 100k events a second, a timer and a controller per event were most of the garbage.
 */
function moduleDeliver(handler: ModuleHandler): Deliver {
  let current:
    | { finish: (result: DeliveryResult) => void; controller?: AbortController; timeoutMs: number }
    | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerMs = 0;
  const onTimeout = () => {
    const delivery = current;
    if (!delivery) return;
    const error = `timed out after ${delivery.timeoutMs} ms`;
    delivery.controller?.abort(new Error(error));
    delivery.finish({ ok: false, reason: 'timeout', error });
  };

  return (record, delivery) =>
    new Promise<DeliveryResult>((resolve) => {
      let settled = false;
      const state: NonNullable<typeof current> = {
        timeoutMs: delivery.timeoutMs,
        finish: (result) => {
          if (settled) return;
          settled = true;
          if (current === state) {
            current = undefined;
            timer?.unref();
          }
          resolve(result);
        },
      };
      current = state;
      if (!timer || timerMs !== delivery.timeoutMs) {
        if (timer) clearTimeout(timer);
        timer = setTimeout(onTimeout, delivery.timeoutMs).unref();
        timerMs = delivery.timeoutMs;
      } else {
        timer.refresh();
      }
      // While a delivery runs, its timer keeps the process alive (a handler may wait on nothing else).
      timer.ref();
      const failed = (error: unknown) => state.finish({ ok: false, reason: 'handler-failed', error: errorText(error) });
      try {
        const returned = handler(handlerEvent(record), {
          group: delivery.group,
          attempt: delivery.attempt,
          get signal() {
            state.controller ??= new AbortController();
            return state.controller.signal;
          },
        });
        if (typeof (returned as PromiseLike<unknown> | undefined)?.then === 'function') {
          (returned as PromiseLike<unknown>).then(() => state.finish(SUCCEEDED), failed);
        } else {
          state.finish(SUCCEEDED);
        }
      } catch (error) {
        failed(error);
      }
    });
}

/**
 * The shell around a command: a watcher waits on fd 3, a pipe whose other end only evlog
 * holds, and the command replaces the shell (`exec`, no extra process). If evlog dies, even
 * by SIGKILL, the pipe ends and the watcher kills the command's whole process group: a
 * handler never outlives its consumer, running on while another process takes the group over
 * and delivers the same event again. When the command exits, evlog closes the pipe, and the
 * watcher ends too (stopping anything the command left running in its group). It costs one
 * fork per event, about 1-2 ms.
 */
const EXEC_WRAPPER = '(read -r _ <&3; kill -TERM 0) >/dev/null 2>&1 & exec /bin/sh -c "$1" 3<&-';

/**
 * Runs the command with `sh -c` per event: the event as one JSON line on stdin, its fields in
 * EVLOG_* variables. Its output goes to `onOutput` (the consumer's stderr, as git does with
 * hooks: stdout stays evlog's). It runs in its own process group, so a terminal's Ctrl-C
 * reaches evlog (which lets it finish) and a timeout can kill everything it started.
 */
function execDeliver(
  command: string,
  options: { env: NodeJS.ProcessEnv; cwd: string; onOutput?: (chunk: Buffer) => void },
): Deliver {
  return (record, delivery) =>
    new Promise<DeliveryResult>((resolvePromise) => {
      const child = spawn('/bin/sh', ['-c', EXEC_WRAPPER, 'evlog-handler', command], {
        cwd: options.cwd,
        env: {
          ...options.env,
          EVLOG_GROUP: delivery.group,
          EVLOG_ATTEMPT: String(delivery.attempt),
          EVLOG_POSITION: String(record.position),
          EVLOG_ID: record.id,
          EVLOG_TOPIC: record.topic,
          EVLOG_KEY: record.key ?? '',
          EVLOG_TYPE: record.type,
          EVLOG_VERSION: String(record.version),
          EVLOG_TIME: new Date(record.time).toISOString(),
        },
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        detached: true,
      });
      let stderrTail = Buffer.alloc(0);
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      const killGroup = (signal: NodeJS.Signals) => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      }, delivery.timeoutMs);
      child.stdout.on('data', (chunk: Buffer) => options.onOutput?.(chunk));
      child.stderr.on('data', (chunk: Buffer) => {
        options.onOutput?.(chunk);
        stderrTail = Buffer.concat([stderrTail, chunk]);
        if (stderrTail.length > STDERR_TAIL_BYTES * 2) stderrTail = stderrTail.subarray(-STDERR_TAIL_BYTES);
      });
      // A command that does not read its stdin closes it early: that is not a failure.
      child.stdin.on('error', () => {});
      child.stdin.end(`${formatEventJson(record)}\n`);
      child.on('error', (error) => {
        clearTimeout(timer);
        resolvePromise({ ok: false, reason: 'handler-failed', error: `cannot run ${command}: ${error.message}` });
      });
      child.on('exit', () => child.stdio[3]?.destroy());
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        clearTimeout(killTimer);
        const tail = stderrTail.subarray(-STDERR_TAIL_BYTES).toString('utf8').trimEnd();
        if (timedOut) {
          resolvePromise({
            ok: false,
            reason: 'timeout',
            error: `timed out after ${delivery.timeoutMs} ms${tail ? `\n${tail}` : ''}`,
          });
        } else if (code === 0) {
          resolvePromise({ ok: true });
        } else {
          const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
          resolvePromise({ ok: false, reason: 'handler-failed', error: tail ? `${how}: ${tail}` : how });
        }
      });
    });
}
