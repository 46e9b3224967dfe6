import { statSync } from 'node:fs';
import { EvlogError } from '../errors.js';
import { type EventDefaults, eventFromJson } from '../input/event-from-json.js';
import { localInputFile } from '../input/local-input-file.js';
import { parseJson } from '../input/parse-json.js';
import { type InputLine, readInputLines } from '../input/read-lines.js';
import { startProgress } from '../output/progress.js';
import { createSchemaGuard } from '../schema/schema-guard.js';
import { type AppendResult, type EventStore, type NewDeadLetter, type NewEvent, prepareEvent } from '../store/index.js';
import { type CommandContext, maxEventBytesFor, withStore } from './context.js';

const BATCH_SIZE = 1000;
const MAX_WARNINGS = 20;

export interface BatchInputOptions {
  /** A file path, or '-' for stdin. */
  source: string;
  defaults: EventDefaults;
  /** 'dead-letter': a bad line is parked (group `append`, reason `invalid`) in the batch's transaction. */
  onInvalid: 'abort' | 'skip' | 'dead-letter';
  /** Keep each event's recorded time (import). */
  keepTime: boolean;
  progressLabel: string;
}

export interface BatchInputResult {
  results: AppendResult[];
  /** Bad lines skipped (`skip`) or parked (`dead-letter`). */
  skipped: number;
  /** Bad lines parked as dead letters (`dead-letter`). */
  parked: number;
}

/**
 * Reads NDJSON (or a JSON array, such as a CloudEvents batch) and appends it all in one
 * transaction. A bad line aborts everything and is named by its line number, unless
 * `onInvalid` is 'skip' or 'dead-letter'; then it is reported on stderr (and parked, in the
 * same transaction) and the rest is appended. The input is made local (stdin copied to a
 * file) before the store is opened.
 */
export async function appendBatchInput(context: CommandContext, options: BatchInputOptions): Promise<BatchInputResult> {
  const input = await localInputFile(options.source, context.io.stdin);
  try {
    return await withStore(context, { create: true }, (store) =>
      appendFromFile(context, store, { ...options, source: input.path }),
    );
  } finally {
    input.dispose();
  }
}

async function appendFromFile(
  context: CommandContext,
  store: EventStore,
  options: BatchInputOptions,
): Promise<BatchInputResult> {
  const { io } = context;
  // Read by the store when it commits: lines are added while the batches run.
  const deadLetters: NewDeadLetter[] = [];
  const maxEventBytes = maxEventBytesFor(context);
  const guard = await createSchemaGuard(store);
  const lineOfEvent: number[] = [];
  let skipped = 0;
  let refusedLines = 0;
  const refusals: string[] = [];
  const totalBytes = statSync(options.source, { throwIfNoEntry: false })?.size ?? 0;
  const progress = await startProgress(io.stderr, {
    total: totalBytes,
    label: options.progressLabel,
    unit: 'MiB',
    quiet: context.globals.quiet,
    minimum: 1_000_000,
  });

  const reject = (line: number, error: unknown, text: string) => {
    if (!(error instanceof EvlogError)) throw error;
    const details = error.details.map((detail) => `line ${line}: ${detail}`);
    // Not a bad line but a missing schema version or the like: stop, naming the line.
    if (error.code !== 'invalid') {
      throw new EvlogError(error.code, `line ${line}: ${error.message}`, { hint: error.hint, details });
    }
    if (options.onInvalid === 'abort') {
      // Read on to report every bad line (up to a limit); nothing more is handed to the store.
      refusedLines++;
      if (refusedLines <= MAX_WARNINGS)
        refusals.push(`line ${line}: ${error.message}`, ...details.map((d) => `  ${d}`));
      return;
    }
    skipped++;
    const parking = options.onInvalid === 'dead-letter';
    if (parking) {
      deadLetters.push({
        source: 'append',
        group: 'append',
        position: null,
        topic: options.defaults.topic ?? null,
        type: typeOfLine(text),
        line: text,
        lineDefaults: { key: options.defaults.key, schemaVersion: options.defaults.schemaVersion },
        reason: 'invalid',
        error: [error.message, ...error.details].join('\n'),
        attempts: 1,
      });
    }
    if (!context.globals.quiet && skipped <= MAX_WARNINGS)
      io.stderr.write(
        `evlog: line ${line} ${parking ? 'parked' : 'skipped'}: ${error.message}\n${details.map((d) => `  ${d}\n`).join('')}`,
      );
  };

  async function* batches(): AsyncGenerator<NewEvent[]> {
    let batch: NewEvent[] = [];
    let bytesRead = 0;
    for await (const input of jsonValues(readInputLines(options.source))) {
      bytesRead += input.bytes;
      try {
        let event = eventFromJson(parseJson(input.text, 'the line'), options.defaults, options.keepTime);
        // Against its type's schema, before the store sees it, so the line can be named.
        const checked = guard.check(event);
        event = checked instanceof Promise ? await checked : checked;
        // With 'skip' (or once a batch is refused) a line must be judged here, before the store
        // sees it; otherwise the store's own check, inside the transaction, names the line
        // through lineOfEvent.
        if (options.onInvalid !== 'abort' || refusedLines > 0) prepareEvent(event, maxEventBytes);
        if (refusedLines === 0) {
          batch.push(event);
          lineOfEvent.push(input.line);
        }
      } catch (error) {
        reject(input.line, error, input.text);
      }
      if (batch.length >= BATCH_SIZE) {
        yield batch;
        batch = [];
        progress.update(bytesRead);
      }
    }
    if (refusedLines > 0) {
      const more = refusedLines > MAX_WARNINGS ? [`… and ${refusedLines - MAX_WARNINGS} more invalid lines`] : [];
      const [first, ...rest] = refusals;
      throw new EvlogError(
        'invalid',
        refusedLines === 1 ? (first as string) : `${refusedLines} invalid lines; ${first}`,
        {
          hint:
            refusedLines === 1
              ? 'nothing was appended; fix the line, or pass --on-invalid skip to append the others'
              : 'nothing was appended; fix the lines, or pass --on-invalid skip to append the others',
          details: [...rest, ...more],
        },
      );
    }
    if (batch.length > 0) yield batch;
  }

  try {
    const results = await store.appendEventStream(batches(), { preserveTime: options.keepTime, deadLetters });
    if (skipped > MAX_WARNINGS && !context.globals.quiet) {
      io.stderr.write(
        `evlog: ${skipped - MAX_WARNINGS} more invalid lines ${deadLetters.length ? 'parked' : 'skipped'}\n`,
      );
    }
    if (deadLetters.length > 0 && !context.globals.quiet) {
      const count = deadLetters.length;
      io.stderr.write(
        `evlog: ${count} invalid line${count === 1 ? '' : 's'} parked as dead letter${count === 1 ? '' : 's'}\n` +
          'hint: see them with `evlog dlq list --group append`; fix the cause, then `evlog dlq redrive --all --group append`\n',
      );
    }
    return { results, skipped, parked: deadLetters.length };
  } catch (error) {
    if (error instanceof EvlogError && error.eventIndex !== undefined) {
      throw new EvlogError(error.code, `line ${lineOfEvent[error.eventIndex]}: ${error.message}`, {
        hint: error.code === 'invalid' ? 'nothing was appended; fix the line, or pass --on-invalid skip' : error.hint,
        details: error.details,
      });
    }
    throw error;
  } finally {
    progress.stop();
  }
}

/** The "type" a bad line names, when it is JSON that has one (so `dlq list --type` finds it). */
function typeOfLine(text: string): string | null {
  try {
    const value = JSON.parse(text) as { type?: unknown } | null;
    return typeof value?.type === 'string' ? value.type : null;
  } catch {
    return null;
  }
}

interface JsonInput {
  text: string;
  line: number;
  bytes: number;
}

/**
 * The JSON texts of the input: one per non-blank line, or, when the input starts with '[',
 * each element of the one JSON array it holds (named by its 1-based index).
 */
async function* jsonValues(lines: AsyncIterable<InputLine>): AsyncGenerator<JsonInput> {
  let arrayText: string[] | undefined;
  for await (const { text, number } of lines) {
    if (arrayText) {
      arrayText.push(text);
      continue;
    }
    if (text.trim() === '') continue;
    if (text.trimStart().startsWith('[')) {
      arrayText = [text];
      continue;
    }
    yield { text, line: number, bytes: text.length + 1 };
  }
  if (!arrayText) return;
  const whole = arrayText.join('\n');
  const array = parseJson(whole, 'the JSON array input');
  if (!Array.isArray(array)) throw new EvlogError('invalid', 'the input starts with "[" but is not a JSON array');
  let index = 0;
  for (const element of array) {
    index++;
    yield { text: JSON.stringify(element), line: index, bytes: 0 };
  }
}
