import * as z from 'zod/mini';
import type { ConsumerDefinition } from '../config/load-config.js';
import {
  DEFAULT_SETTINGS,
  type GroupSettings,
  type HandlerSpec,
  handlerSpecFromDefinition,
  handlerSpecFromOptions,
  loadHandler,
  settingsFromJson,
} from '../consumers/handler.js';
import { describeHolder } from '../consumers/lease.js';
import { type ConsumeReport, type ConsumeSummary, runConsumer } from '../consumers/run-consumer.js';
import { EvlogError } from '../errors.js';
import { parseDuration } from '../input/parse-range.js';
import type { ConsumerGroupRecord } from '../store/index.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, configFor, wantsJson, withStore } from './context.js';
import { parseOptions } from './parse-options.js';
import { recordUpcasterFor } from './upcasting.js';

const nonEmpty = z.string().check(z.minLength(1, 'cannot be empty'));
const count = z.coerce
  .number({ error: 'must be a whole number of 1 or more' })
  .check(z.int('must be a whole number'), z.positive('must be 1 or more'));

const optionsSchema = z.object({
  topic: z.optional(nonEmpty),
  exec: z.optional(nonEmpty),
  handler: z.optional(nonEmpty),
  maxAttempts: z.optional(count),
  backoff: z.optional(z.string()),
  timeout: z.optional(z.string()),
  follow: z.optional(z.boolean()),
  limit: z.optional(count),
  checkpointEvery: z.optional(count),
});

type ConsumeOptions = z.infer<typeof optionsSchema>;

const GROUP_NAME = /^[A-Za-z0-9][\w.-]*$/;

const OPTIONS_HINT = 'see `evlog consume --help`';

/** --backoff and --timeout: milliseconds (500) or a duration (500ms, 2s, 1m). */
function parseMilliseconds(text: string, flag: string, minimum: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : parseDuration(text, flag);
  if (value < minimum) {
    throw new EvlogError('usage', `${flag}: must be at least ${minimum} ms`, {
      hint: 'write milliseconds (500) or a duration like 500ms, 30s or 1m',
    });
  }
  return value;
}

/** The options, checked; a bad one is named with a pointer to the help, as for an unknown flag. */
function parseConsumeOptions(raw: unknown): ConsumeOptions {
  try {
    return parseOptions(optionsSchema, raw);
  } catch (error) {
    if (!(error instanceof EvlogError) || error.hint) throw error;
    throw new EvlogError(error.code, error.message, { details: error.details, hint: OPTIONS_HINT });
  }
}

/**
 * The group's settings: the command line, then the config's declaration, then what the group
 * last ran with (stored), then the defaults.
 */
function resolveSettings(
  group: string,
  options: ConsumeOptions,
  cwd: string,
  declared: ConsumerDefinition | undefined,
  stored: ConsumerGroupRecord | null,
): GroupSettings {
  const last = stored ? settingsFromJson(stored.handlerJson, group) : undefined;
  const fromConfig: HandlerSpec | null = declared ? handlerSpecFromDefinition(declared) : null;
  const handler =
    handlerSpecFromOptions({ exec: options.exec, handler: options.handler, cwd }) ?? fromConfig ?? last?.handler;
  if (!handler) {
    throw new EvlogError('usage', `consumer group "${group}" needs a handler: --exec <cmd> or --handler <module>`, {
      hint: `e.g. evlog consume ${group} --topic orders --exec 'cat >> seen.ndjson'`,
    });
  }
  return {
    handler,
    maxAttempts: options.maxAttempts ?? declared?.maxAttempts ?? last?.maxAttempts ?? DEFAULT_SETTINGS.maxAttempts,
    backoffMs:
      options.backoff !== undefined
        ? parseMilliseconds(options.backoff, '--backoff', 0)
        : (declared?.backoffMs ?? last?.backoffMs ?? DEFAULT_SETTINGS.backoffMs),
    timeoutMs:
      options.timeout !== undefined
        ? parseMilliseconds(options.timeout, '--timeout', 1)
        : (declared?.timeoutMs ?? last?.timeoutMs ?? DEFAULT_SETTINGS.timeoutMs),
  };
}

/**
 * Ctrl-C (or SIGTERM) once: stop after the event in flight, with the checkpoint right. Twice:
 * quit now; the event in flight is delivered again next time.
 */
function stopOnSignals(context: CommandContext): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    if (!context.globals.quiet) {
      context.io.stderr.write('evlog: stopping after the event in flight (press Ctrl-C again to quit at once)\n');
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

function reporter(context: CommandContext, group: string): (report: ConsumeReport) => void {
  const { stderr } = context.io;
  let waitingSaid = false;
  return (report) => {
    if (context.globals.quiet) return;
    switch (report.kind) {
      case 'retrying':
        stderr.write(
          `${group}: position ${report.record.position} (${report.record.type}) failed attempt ${report.attempt}, retrying in ${report.delayMs} ms: ${firstLine(report.error)}\n`,
        );
        break;
      case 'dead-lettered':
        stderr.write(
          `${group}: position ${report.record.position} (${report.record.type}) dead-lettered ${
            report.attempts === 0
              ? 'without a delivery'
              : `after ${report.attempts} attempt${report.attempts === 1 ? '' : 's'}`
          } (${report.reason}): ${firstLine(report.error)}\n`,
        );
        break;
      case 'waiting':
        if (!waitingSaid)
          stderr.write(`${group}: ${describeHolder(report.holder)} holds the group; waiting to take over\n`);
        waitingSaid = true;
        break;
      default:
        break;
    }
  };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

function printSummary(context: CommandContext, summary: ConsumeSummary): void {
  if (wantsJson(context)) {
    context.io.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  if (context.globals.quiet) return;
  const parts = [`${summary.succeeded} succeeded`];
  if (summary.deadLettered) parts.push(`${summary.deadLettered} dead-lettered`);
  if (summary.retries) parts.push(`${summary.retries} retr${summary.retries === 1 ? 'y' : 'ies'}`);
  const hint = summary.deadLettered ? `; see \`evlog dlq list --group ${summary.group}\`` : '';
  context.io.stdout.write(
    `${summary.group}: ${summary.events} event${summary.events === 1 ? '' : 's'} from ${summary.topic} (${parts.join(', ')}), checkpoint ${summary.checkpoint}${hint}\n`,
  );
}

export const run: CommandRun = async (context, args, raw) => {
  const options = parseConsumeOptions(raw);
  const group = args[0] as string;
  if (group === 'append') {
    throw new EvlogError('usage', '"append" is the group name of parked batch lines; choose another', {
      hint: '`evlog dlq list --group append` lists the bad lines of `append --batch --on-invalid dead-letter`',
    });
  }
  if (!GROUP_NAME.test(group)) {
    throw new EvlogError('usage', `"${group}" is not a group name`, {
      hint: 'a group name is letters, digits, -, _ or ., starting with a letter or digit',
    });
  }
  const config = (await configFor(context))?.config;
  const declared = config?.consumers?.find((consumer) => consumer.name === group);
  await withStore(context, { create: false, durability: 'process' }, async (store) => {
    const stored = await store.readConsumerGroup(group);
    const topic = options.topic ?? declared?.topic ?? stored?.topic;
    if (topic === undefined) {
      throw new EvlogError('usage', `consumer group "${group}" is new: give it a --topic`, {
        hint: `e.g. evlog consume ${group} --topic orders --exec 'cat'`,
      });
    }
    const settings = resolveSettings(group, options, context.io.cwd, declared, stored);
    const deliver = await loadHandler(settings.handler, {
      env: context.io.env,
      cwd: context.io.cwd,
      onOutput: (chunk) => context.io.stderr.write(chunk),
    });
    const stop = stopOnSignals(context);
    try {
      const summary = await runConsumer(store, {
        group,
        topic,
        settings,
        deliver,
        follow: options.follow,
        limit: options.limit,
        checkpointEvery: options.checkpointEvery,
        signal: stop.signal,
        upcast: await recordUpcasterFor(context, store, false),
        onReport: reporter(context, group),
      });
      printSummary(context, summary);
    } finally {
      stop.dispose();
    }
  });
};
