import { createInterface } from 'node:readline';
import * as z from 'zod/mini';
import {
  type DiscardOutcome,
  deadLetterPages,
  discardDeadLetters,
  type RedriveOutcome,
  redriveDeadLetters,
} from '../consumers/redrive.js';
import { EvlogError } from '../errors.js';
import { parseTimeOrAgo } from '../input/parse-range.js';
import { formatEventJson } from '../output/format-event.js';
import { createLineWriter } from '../output/line-writer.js';
import { printTable } from '../output/table.js';
import {
  DEAD_LETTER_REASONS,
  DEAD_LETTER_STATUSES,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterWithHistory,
  type EventStore,
  formatStreamName,
} from '../store/index.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, maxEventBytesFor, wantsJson, withStore } from './context.js';
import { parseOptions } from './parse-options.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 10_000;
/** Above this many entries, a bulk redrive or discard warns first. */
const BULK_WARNING = 1000;
const PAGE_SIZE = 500;

const name = z.string().check(z.minLength(1, 'cannot be empty'));
const wholeNumber = (what: string) =>
  z.coerce.number({ error: `must be ${what}` }).check(z.int(`must be ${what}`), z.positive(`must be ${what}`));

const listSchema = z.object({
  group: z.optional(name),
  status: z._default(z.enum(DEAD_LETTER_STATUSES as [string, ...string[]]), 'parked'),
  type: z.optional(name),
  reason: z.optional(z.enum(DEAD_LETTER_REASONS as [string, ...string[]])),
  since: z.optional(z.string()),
  until: z.optional(z.string()),
  limit: z.optional(wholeNumber('a whole number from 1').check(z.lte(MAX_LIMIT, `must be ${MAX_LIMIT} or less`))),
  after: z.optional(wholeNumber('an entry id (a whole number from 1)')),
});

const selectionSchema = z.object({
  all: z.optional(z.boolean()),
  group: z.optional(name),
  type: z.optional(name),
  reason: z.optional(z.enum(DEAD_LETTER_REASONS as [string, ...string[]])),
  dryRun: z.optional(z.boolean()),
  yes: z.optional(z.boolean()),
});

type Selection = z.infer<typeof selectionSchema>;

/** The options, validated; a bad one points at the subcommand's help. */
function parseDlqOptions<T extends z.ZodMiniType>(schema: T, raw: unknown, sub: string): z.infer<T> {
  try {
    return parseOptions(schema, raw);
  } catch (error) {
    if (!(error instanceof EvlogError) || error.hint) throw error;
    throw new EvlogError(error.code, error.message, {
      details: error.details,
      hint: `see \`evlog dlq ${sub} --help\``,
    });
  }
}

/** An entry id as typed: a whole number from 1. */
function parseId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new EvlogError('usage', `"${text}" is not a dead-letter id`, {
      hint: 'ids are whole numbers from 1, as `evlog dlq list` shows them',
    });
  }
  return Number(text);
}

/** The list line of DESIGN.md ("Output"). */
function entryJson(entry: DeadLetter) {
  return {
    id: entry.id,
    group: entry.group,
    position: entry.position,
    type: entry.type,
    reason: entry.reason,
    error: entry.error,
    attempts: entry.attempts,
    status: entry.status,
    firstFailedAt: new Date(entry.firstFailedAt).toISOString(),
    lastFailedAt: new Date(entry.lastFailedAt).toISOString(),
  };
}

/** 45s, 12m, 3h, 2d: how long ago. */
function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function firstLine(text: string, length = 70): string {
  // By code points, so an emoji is never cut in half into '�'.
  const characters = [...(text.split('\n', 1)[0] ?? '')];
  return characters.length > length ? `${characters.slice(0, length - 1).join('')}…` : characters.join('');
}

/** The first lines of an error (a schema refusal's details follow its first line), indented. */
function errorExcerpt(text: string, lines = 6): string {
  const all = text.trimEnd().split('\n');
  const shown = all.slice(0, lines).map((line, i) => (i === 0 ? line : `  ${line}`));
  if (all.length > lines) shown.push(`  … (${all.length - lines} more lines: evlog dlq show)`);
  return shown.join('\n');
}

/** Where the entry's input is: the event's position, or "line" for a batch line. */
function where(entry: DeadLetter): string {
  return entry.position === null ? 'line' : String(entry.position);
}

export const list: CommandRun = async (context, _args, raw) => {
  const options = parseDlqOptions(listSchema, raw, 'list');
  const now = context.io.now();
  const filter: DeadLetterFilter = {
    group: options.group,
    status: options.status as DeadLetterFilter['status'],
    type: options.type,
    reason: options.reason as DeadLetterFilter['reason'],
    since: options.since === undefined ? undefined : parseTimeOrAgo(options.since, '--since', now),
    until: options.until === undefined ? undefined : parseTimeOrAgo(options.until, '--until', now),
  };
  const limit = options.limit ?? DEFAULT_LIMIT;
  const { entries, more } = await withStore(context, { create: false }, async (store) => {
    // One more than asked: whether another page follows, without counting them all.
    const page = await store.listDeadLetters(filter, { limit: limit + 1, afterId: options.after });
    const hasMore = page.length > limit;
    return {
      entries: hasMore ? page.slice(0, limit) : page,
      more: hasMore ? await store.countDeadLetters({ ...filter }) : 0,
    };
  });
  const { stdout, stderr } = context.io;
  if (wantsJson(context)) {
    const writer = createLineWriter(stdout);
    try {
      for (const entry of entries) await writer.line(JSON.stringify(entryJson(entry)));
      await writer.flush();
    } finally {
      writer.dispose();
    }
  } else if (entries.length === 0) {
    if (!context.globals.quiet) {
      stderr.write(`no ${filter.status} dead letters${options.after ? ` after id ${options.after}` : ''}\n`);
    }
  } else {
    await printTable(
      stdout,
      ['ID', 'GROUP', 'POSITION', 'TYPE', 'REASON', 'ATTEMPTS', 'AGE', 'ERROR'],
      entries.map((e) => [
        e.id,
        e.group,
        where(e),
        e.type ?? '-',
        e.reason,
        e.attempts,
        age(now - e.firstFailedAt),
        firstLine(e.error),
      ]),
    );
  }
  if (more > 0 && !context.globals.quiet) {
    const first = entries[0] as DeadLetter;
    const last = entries[entries.length - 1] as DeadLetter;
    // Relative times are pinned to the times they meant, so the next page shows the same window.
    const pinned = {
      since: filter.since === undefined ? undefined : new Date(filter.since).toISOString(),
      until: filter.until === undefined ? undefined : new Date(filter.until).toISOString(),
    };
    const flags = listFlags(
      { db: context.globals.db, ...raw, ...pinned, json: context.globals.json || undefined },
      last.id,
    );
    stderr.write(`showing ids ${first.id}-${last.id}, ${more} match in all; next page: evlog dlq list ${flags}\n`);
  }
};

/** The flags of this `dlq list`, with --after moved on to `afterId`. */
function listFlags(raw: Record<string, unknown>, afterId: number): string {
  const words: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || key === 'after') continue;
    if (value === true) {
      words.push(`--${key}`);
      continue;
    }
    words.push(`--${key}`, /^[\w.:@/+-]+$/.test(String(value)) ? String(value) : `'${String(value)}'`);
  }
  words.push('--after', String(afterId));
  return words.join(' ');
}

export const show: CommandRun = async (context, args) => {
  const id = parseId(args[0] as string);
  const { entry, event } = await withStore(context, { create: false }, async (store) => {
    const found = await store.readDeadLetter(id);
    if (!found) {
      throw new EvlogError('not_found', `no dead letter with id ${id}`, { hint: 'list them with `evlog dlq list`' });
    }
    let record: string | null = null;
    if (found.position !== null) {
      const [stored] = await store.readEvents(
        { fromPosition: found.position, untilPosition: found.position },
        { direction: 'forward', limit: 1 },
      );
      record = stored ? formatEventJson(stored) : null;
    }
    return { entry: found, event: record === null ? null : (JSON.parse(record) as unknown) };
  });
  if (wantsJson(context)) {
    context.io.stdout.write(`${JSON.stringify(showJson(entry, event))}\n`);
    return;
  }
  context.io.stdout.write(formatShow(entry, event, context.io.now()));
};

function showJson(entry: DeadLetterWithHistory, event: unknown) {
  return {
    ...entryJson(entry),
    source: entry.source,
    topic: entry.topic,
    line: entry.line,
    lineDefaults: entry.lineDefaults,
    event,
    // `note` only where there is one: most lines have none.
    history: entry.history.map(({ note, ...h }) => ({
      ...h,
      at: new Date(h.at).toISOString(),
      ...(note !== null ? { note } : {}),
    })),
  };
}

function formatShow(entry: DeadLetterWithHistory, event: unknown, now: number): string {
  const iso = (ms: number) => `${new Date(ms).toISOString()} (${age(now - ms)} ago)`;
  const subject =
    entry.source === 'append'
      ? `a batch line${entry.topic ? ` (default topic ${entry.topic})` : ''}`
      : `position ${entry.position}${entry.type ? `, ${entry.type}` : ''}${entry.topic ? ` in ${entry.topic}` : ''}`;
  const rows: [string, string][] = [
    ['id', String(entry.id)],
    ['status', entry.status],
    ['from', `${entry.source} ${entry.source === 'append' ? '(append --batch)' : `"${entry.group}"`}`],
    ['input', subject],
    ['reason', entry.reason],
    ['attempts', String(entry.attempts)],
    ['first failed', iso(entry.firstFailedAt)],
    ['last failed', iso(entry.lastFailedAt)],
  ];
  let text = rows.map(([label, value]) => `${`${label}:`.padEnd(14)}${value}\n`).join('');
  text += `error:\n${indent(entry.error)}\n`;
  if (entry.source === 'append') {
    const defaults = [
      entry.lineDefaults?.key === undefined ? '' : ` --key ${entry.lineDefaults.key}`,
      entry.lineDefaults?.schemaVersion === undefined ? '' : ` --schema-version ${entry.lineDefaults.schemaVersion}`,
    ].join('');
    text += `line${defaults ? ` (the batch gave${defaults})` : ''}:\n${indent(entry.line ?? '')}\n`;
  } else if (event !== null) {
    const envelope = event as { topic: string; key: string | null };
    text += `event (${formatStreamName(envelope.topic, envelope.key)}, as stored):\n${indent(JSON.stringify(event, null, 2))}\n`;
  }
  if (entry.history.length === 0) text += 'history:      (none: never redriven or discarded)\n';
  else {
    text += 'history:\n';
    for (const h of entry.history) {
      const detail =
        h.action === 'failed'
          ? `: ${firstLine(h.error ?? '', 100)}`
          : h.position !== null
            ? ` (appended at ${h.position})`
            : '';
      text += `  ${new Date(h.at).toISOString()}  ${h.action}${detail}${h.note !== null ? `: ${h.note}` : ''}\n`;
    }
  }
  return text;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** The ids given, or --all with its filters; never both, never neither. */
function parseSelection(args: unknown[], raw: Record<string, unknown>, verb: string) {
  const options = parseDlqOptions(selectionSchema, raw, verb);
  const ids = ((args[0] as string[] | undefined) ?? []).map(parseId);
  if (ids.length > 0 && options.all) {
    throw new EvlogError('usage', `give either ids or --all, not both`, {
      hint: `e.g. evlog dlq ${verb} 12 13, or evlog dlq ${verb} --all --group mailer`,
    });
  }
  if (ids.length === 0 && !options.all) {
    throw new EvlogError('usage', `which entries? give their ids, or --all`, {
      hint: `e.g. evlog dlq ${verb} 12 13, or evlog dlq ${verb} --all --group mailer (see \`evlog dlq list\`)`,
    });
  }
  if (ids.length > 0 && (options.group ?? options.type ?? options.reason) !== undefined) {
    throw new EvlogError('usage', '--group, --type and --reason select entries for --all; with ids they do nothing', {
      hint: `drop them, or use evlog dlq ${verb} --all with them`,
    });
  }
  const filter: DeadLetterFilter = {
    status: 'parked',
    group: options.group,
    type: options.type,
    reason: options.reason as DeadLetterFilter['reason'],
  };
  return { ids, options, filter };
}

function describeFilter(filter: DeadLetterFilter): string {
  const parts = [
    filter.group && `group ${filter.group}`,
    filter.type && `type ${filter.type}`,
    filter.reason && `reason ${filter.reason}`,
  ].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/**
 * Before a bulk change: count, warn above 1,000, and ask on a terminal (or require --yes
 * without one). Returns false when there is nothing to do or the user said no.
 */
async function confirmBulk(
  context: CommandContext,
  store: EventStore,
  selection: { filter: DeadLetterFilter; options: Selection },
  verb: string,
): Promise<boolean> {
  const { io } = context;
  const count = await store.countDeadLetters(selection.filter);
  const what = `${count} parked dead letter${count === 1 ? '' : 's'}${describeFilter(selection.filter)}`;
  if (count === 0) {
    if (!context.globals.quiet) io.stderr.write(`no parked dead letters${describeFilter(selection.filter)}\n`);
    return false;
  }
  if (count > BULK_WARNING) io.stderr.write(`warning: this ${verb}s ${what}\n`);
  if (selection.options.dryRun || selection.options.yes) return true;
  if (!io.stdin.isTTY) {
    throw new EvlogError('usage', `${verb} --all would change ${what}, and there is no terminal to confirm it`, {
      hint: `add --yes to ${verb} them (or --dry-run to see which)`,
    });
  }
  io.stderr.write(`${verb} ${what}? [y/N] `);
  const answer = await readLine(io.stdin);
  if (/^y(es)?$/i.test(answer.trim())) return true;
  io.stderr.write(`nothing was ${verb === 'redrive' ? 'redriven' : 'discarded'}\n`);
  return false;
}

function readLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const lines = createInterface({ input, terminal: false });
    let done = false;
    const finish = (text: string) => {
      if (done) return;
      done = true;
      lines.close();
      resolve(text);
    };
    lines.once('line', finish);
    lines.once('close', () => finish(''));
  });
}

/**
 * The entries to act on: the ids given, or every parked one the filters select, page by page,
 * up to the highest id that matched when the command started: entries parked meanwhile (by a
 * running consumer) were not in the count the user confirmed, and are left for the next run.
 */
async function* selectedPages(
  store: EventStore,
  selection: { ids: number[]; filter: DeadLetterFilter; upTo: number },
): AsyncGenerator<number[]> {
  if (selection.ids.length > 0) {
    yield selection.ids;
    return;
  }
  const pinned = { ...selection.filter, maxId: selection.upTo };
  for await (const page of deadLetterPages(store, pinned, PAGE_SIZE)) yield page.map((e) => e.id);
}

/** The selection with the highest id that matches now: bulk work never goes past it. */
async function pinSelection<T extends { filter: DeadLetterFilter }>(
  store: EventStore,
  selection: T,
): Promise<T & { upTo: number }> {
  const [highest] = await store.listDeadLetters(selection.filter, { limit: 1, beforeId: Number.MAX_SAFE_INTEGER });
  return { ...selection, upTo: highest?.id ?? 0 };
}

/** --dry-run: the entries as `list` prints them, nothing changed. Unknown ids are still an error. */
async function printPlan(
  context: CommandContext,
  store: EventStore,
  selection: { ids: number[]; filter: DeadLetterFilter; upTo: number },
  verb: string,
): Promise<void> {
  const { stdout } = context.io;
  const writer = createLineWriter(stdout);
  let count = 0;
  try {
    for await (const ids of selectedPages(store, selection)) {
      const entries = await store.listDeadLetters({ ids }, { limit: ids.length });
      const byId = new Map(entries.map((e) => [e.id, e]));
      const missing = ids.filter((id) => !byId.has(id));
      if (missing.length) throw new EvlogError('not_found', `no dead letter with id ${missing.join(', ')}`);
      for (const id of ids) {
        const entry = byId.get(id) as DeadLetter;
        count += entry.status === 'parked' ? 1 : 0;
        if (wantsJson(context)) await writer.line(JSON.stringify(entryJson(entry)));
        else {
          const action = entry.status === 'parked' ? `would ${verb}` : `would skip (${entry.status})`;
          await writer.line(
            `${action} ${entry.id}: ${entry.group} ${entry.position === null ? 'line' : `position ${entry.position}`}${entry.type ? ` ${entry.type}` : ''}`,
          );
        }
      }
    }
    await writer.flush();
  } finally {
    writer.dispose();
  }
  if (!context.globals.quiet)
    context.io.stderr.write(
      `dry run: ${count} entr${count === 1 ? 'y' : 'ies'} would be ${verb === 'redrive' ? 'redriven' : 'discarded'}; nothing changed\n`,
    );
}

export const redrive: CommandRun = async (context, args, raw) => {
  const parsed = parseSelection(args, raw, 'redrive');
  const { io } = context;
  const json = wantsJson(context);
  const controller = new AbortController();
  // Ctrl-C: finish the entry in flight (its handler has its own timeout), then stop. Listened
  // to only once the work starts: at the y/N question, Ctrl-C quits as it always does.
  const interrupt = () => controller.abort();
  const counts = { redriven: 0, failed: 0, skipped: 0 };
  try {
    await withStore(context, { create: false }, async (store) => {
      const selection = await pinSelection(store, parsed);
      if (selection.ids.length === 0 && !(await confirmBulk(context, store, selection, 'redrive'))) return;
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      if (selection.options.dryRun) {
        await printPlan(context, store, selection, 'redrive');
        return;
      }
      // Each entry's line as soon as it is done (not buffered: a delivery may take a while).
      const onOutcome = (outcome: RedriveOutcome) => {
        counts[outcome.outcome]++;
        if (outcome.outcome === 'skipped') {
          if (!context.globals.quiet) io.stderr.write(`skipped ${outcome.id}: ${outcome.error}\n`);
          return;
        }
        const line = json
          ? JSON.stringify({ id: outcome.id, outcome: outcome.outcome, error: outcome.error })
          : outcome.outcome === 'redriven'
            ? `redriven ${outcome.id}`
            : `failed ${outcome.id}: ${errorExcerpt(outcome.error ?? '')}`;
        io.stdout.write(`${line}\n`);
      };
      for await (const ids of selectedPages(store, selection)) {
        await redriveDeadLetters(store, ids, {
          // Loaded by the library only when an entry needs it (batch lines never do).
          configPath: context.globals.config,
          cwd: io.cwd,
          env: io.env as NodeJS.ProcessEnv,
          onOutput: (chunk) => io.stderr.write(chunk),
          onOutcome,
          signal: controller.signal,
          maxEventBytes: maxEventBytesFor(context),
          clock: io.now,
        });
        if (controller.signal.aborted) break;
      }
    });
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
  }
  const total = counts.redriven + counts.failed + counts.skipped;
  if (total > 0 && !json && !context.globals.quiet) {
    io.stderr.write(
      `${counts.redriven} redriven, ${counts.failed} failed again${counts.skipped ? `, ${counts.skipped} skipped` : ''}\n`,
    );
  }
  if (controller.signal.aborted) {
    throw new EvlogError('failure', 'interrupted: the entries not reported above were not redriven', {
      hint: 'run the same redrive again: the entries already redriven are skipped',
    });
  }
  if (counts.failed > 0) {
    throw new EvlogError('failure', `${counts.failed} dead letter${counts.failed === 1 ? '' : 's'} failed again`, {
      hint: 'they stay parked with the new error: see it with `evlog dlq show <id>`',
    });
  }
};

export const discard: CommandRun = async (context, args, raw) => {
  const parsed = parseSelection(args, raw, 'discard');
  const { io } = context;
  const json = wantsJson(context);
  const counts = { discarded: 0, skipped: 0 };
  const writer = createLineWriter(io.stdout);
  try {
    await withStore(context, { create: false }, async (store) => {
      const selection = await pinSelection(store, parsed);
      if (selection.ids.length === 0 && !(await confirmBulk(context, store, selection, 'discard'))) return;
      if (selection.options.dryRun) {
        await printPlan(context, store, selection, 'discard');
        return;
      }
      for await (const ids of selectedPages(store, selection)) {
        for (const outcome of await discardDeadLetters(store, ids)) {
          counts[outcome.outcome]++;
          await printDiscard(context, writer, outcome, json);
        }
      }
      await writer.flush();
    });
  } finally {
    writer.dispose();
  }
  if (!json && !context.globals.quiet && counts.discarded + counts.skipped > 0) {
    io.stderr.write(`${counts.discarded} discarded${counts.skipped ? `, ${counts.skipped} skipped` : ''}\n`);
  }
};

async function printDiscard(
  context: CommandContext,
  writer: ReturnType<typeof createLineWriter>,
  outcome: DiscardOutcome,
  json: boolean,
): Promise<void> {
  if (outcome.outcome === 'skipped') {
    if (!context.globals.quiet) context.io.stderr.write(`skipped ${outcome.id}: ${outcome.reason}\n`);
    return;
  }
  await writer.line(json ? JSON.stringify({ id: outcome.id, outcome: 'discarded' }) : `discarded ${outcome.id}`);
}
