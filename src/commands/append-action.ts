import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import { parseJson } from '../input/parse-json.js';
import { readAllText } from '../input/read-lines.js';
import { createLineWriter } from '../output/line-writer.js';
import { createSchemaGuard } from '../schema/schema-guard.js';
import type { AppendResult, ExpectedVersion, JsonObject, NewEvent } from '../store/index.js';
import { formatStreamName, prepareEvent } from '../store/index.js';
import { appendBatchInput } from './batch-input.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, maxEventBytesFor, wantsJson, withStore } from './context.js';
import { parseOptions } from './parse-options.js';

const nonEmpty = z.string().check(z.minLength(1, 'cannot be empty'));

const optionsSchema = z.object({
  type: z.optional(nonEmpty),
  key: z.optional(nonEmpty),
  id: z.optional(nonEmpty),
  expect: z.optional(z.string()),
  meta: z.optional(z.array(z.string())),
  correlationId: z.optional(nonEmpty),
  causationId: z.optional(nonEmpty),
  schemaVersion: z.optional(z.coerce.number().check(z.int('must be a whole number'), z.positive('must be 1 or more'))),
  batch: z.optional(z.union([z.literal(true), z.string()])),
  onInvalid: z._default(z.enum(['abort', 'skip', 'dead-letter']), 'abort'),
});

type AppendOptions = z.infer<typeof optionsSchema>;

async function appendOne(
  context: CommandContext,
  topic: string | undefined,
  dataArgument: string | undefined,
  options: AppendOptions,
) {
  const { io } = context;
  if (topic === undefined)
    throw new EvlogError('usage', 'missing topic', { hint: 'e.g. evlog append orders \'{"total":1}\' -t OrderPlaced' });
  if (options.type === undefined)
    throw new EvlogError('usage', 'missing --type for a single event', { hint: 'e.g. -t OrderPlaced' });
  let dataText = dataArgument;
  if (dataText === undefined) {
    if (io.stdin.isTTY) {
      throw new EvlogError('usage', 'no data: give it as an argument, or pipe it on stdin', {
        hint: 'e.g. evlog append orders \'{"total":12.5}\' -t OrderPlaced',
      });
    }
    dataText = await readAllText(io.stdin);
    if (dataText.trim() === '') throw new EvlogError('invalid', 'no data on stdin');
  }
  const data = parseJson(dataText, 'the event data');
  const event: NewEvent = {
    topic,
    key: options.key ?? null,
    type: options.type as string,
    data,
    metadata: metadataFromOptions(options),
    id: options.id,
    expect: parseExpect(options.expect ?? 'any'),
    schemaVersion: options.schemaVersion ?? null,
  };
  // Checked before the store is opened, so that bad input never creates a store file.
  prepareEvent(event, maxEventBytesFor(context));
  const results = await withStore(context, { create: true }, async (store) => {
    // Validated against the type's schema (if it has one) and stamped with its version.
    const guard = await createSchemaGuard(store);
    if (options.schemaVersion !== undefined && !(await store.latestSchemaVersions()).has(event.type)) {
      // A version asked for on the command line must exist; only copied envelopes carry theirs as they are.
      throw new EvlogError('not_found', `--schema-version ${options.schemaVersion}: ${event.type} has no schemas`, {
        hint: `register one with \`evlog schema register ${event.type} <schema.json>\`, or leave out --schema-version`,
      });
    }
    return store.appendEvents([await guard.check(event)]);
  });
  await printResults(context, results);
}

async function appendBatch(context: CommandContext, topic: string | undefined, options: AppendOptions) {
  if (options.type !== undefined || options.id !== undefined) {
    throw new EvlogError('usage', '--type and --id apply to a single event; in a batch each line has its own');
  }
  const source = options.batch === true ? '-' : (options.batch as string);
  const { results, skipped, parked } = await appendBatchInput(context, {
    source,
    defaults: { topic, key: options.key, schemaVersion: options.schemaVersion },
    onInvalid: options.onInvalid,
    keepTime: false,
    progressLabel: 'appending',
  });
  await printResults(context, results, skipped, parked > 0);
}

/** --expect: a version number, none, exists or any. */
export function parseExpect(text: string): ExpectedVersion {
  if (text === 'none' || text === 'exists' || text === 'any') return text;
  if (/^\d+$/.test(text)) return Number(text);
  throw new EvlogError('usage', `--expect: "${text}" is not a version`, { hint: 'use a number, none, exists or any' });
}

function metadataFromOptions(options: AppendOptions): JsonObject {
  const metadata: JsonObject = {};
  for (const pair of options.meta ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new EvlogError('usage', `--meta: "${pair}" is not key=value`);
    metadata[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  if (options.correlationId) metadata.correlationId = options.correlationId;
  if (options.causationId) metadata.causationId = options.causationId;
  return metadata;
}

async function printResults(
  context: CommandContext,
  results: AppendResult[],
  skipped = 0,
  parked = false,
): Promise<void> {
  const { io } = context;
  if (wantsJson(context)) {
    // Line by line through the writer: a million results never become one string.
    const writer = createLineWriter(io.stdout);
    try {
      for (const r of results) {
        await writer.line(
          JSON.stringify({
            position: r.position,
            id: r.id,
            topic: r.topic,
            key: r.key,
            version: r.version,
            duplicate: r.duplicate,
          }),
        );
      }
      await writer.flush();
    } finally {
      writer.dispose();
    }
    return;
  }
  if (context.globals.quiet) return;
  if (results.length === 1 && skipped === 0) {
    const r = results[0] as AppendResult;
    const stream = `${formatStreamName(r.topic, r.key)}@${r.version}`;
    io.stdout.write(
      r.duplicate
        ? `duplicate of position ${r.position} (${stream}, id ${r.id}): nothing appended\n`
        : `appended ${stream} at position ${r.position} (id ${r.id})\n`,
    );
    return;
  }
  const appended = results.filter((r) => !r.duplicate);
  const duplicates = results.length - appended.length;
  const range =
    appended.length > 0 ? ` at positions ${appended[0]?.position}-${appended[appended.length - 1]?.position}` : '';
  io.stdout.write(
    `appended ${appended.length} event${appended.length === 1 ? '' : 's'}${range}` +
      `${duplicates ? `, ${duplicates} duplicate${duplicates === 1 ? '' : 's'} skipped` : ''}` +
      `${skipped ? `, ${skipped} invalid line${skipped === 1 ? '' : 's'} ${parked ? 'parked' : 'skipped'}` : ''}\n`,
  );
}

export const run: CommandRun = async (context, args, raw) => {
  const options = parseOptions(optionsSchema, raw);
  const [topic, data] = args as [string | undefined, string | undefined];
  if (options.batch !== undefined) {
    if (data !== undefined) throw new EvlogError('usage', 'give either data or --batch, not both');
    await appendBatch(context, topic, options);
  } else {
    await appendOne(context, topic, data, options);
  }
};
