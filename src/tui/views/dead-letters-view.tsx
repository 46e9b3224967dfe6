import { Box, Text } from 'ink';
import { useEffect, useRef, useState } from 'react';
import { formatEventJson, isoTime } from '../../output/format-event.js';
import type { DeadLetter, DeadLetterFilter, DeadLetterWithHistory } from '../../store/types.js';
import { deadLetterSource, MAX_KEPT_IN_PLACE } from '../dead-letter-source.js';
import { parseDeadLetterQuery } from '../filter-query.js';
import { age, clip, count, firstLine, showJson } from '../format.js';
import { errorText, useColor, useFirstWindow, useInspector, useViewMode } from '../inspector-context.js';
import type { InspectorData } from '../inspector-data.js';
import { useKeys } from '../keyboard.js';
import { movement } from '../keys.js';
import { ListLines } from '../list-lines.js';
import { ScrollPane } from '../scroll-pane.js';
import { PromptLine, usePrompt } from '../text-prompt.js';
import { usePagedWindow, useWindowHeight } from '../use-paged-window.js';

type Action = 'redrive' | 'discard';

/** A y/n question before acting on more than one entry. */
interface Confirmation {
  action: Action;
  ids: number[] | 'all';
  entries: number;
}

/** What happened to an entry in this session, shown in its row. */
type Outcome =
  | { kind: 'redriven' | 'discarded' }
  | { kind: 'failed'; error: string }
  | { kind: 'skipped'; reason: string };

/**
 * The selection: some ids, or (`a`) every parked entry the filter showed when `a` was pressed
 * except some: `upTo` is the highest id then and `count` how many there were, so entries parked
 * afterwards (by a running consumer) are never acted on without being seen and counted.
 */
interface Selection {
  all: boolean;
  ids: ReadonlySet<number>;
  upTo: number;
  count: number;
}

const NO_SELECTION: Selection = { all: false, ids: new Set(), upTo: 0, count: 0 };
/** Entries redriven or discarded per library call. */
const ACTION_CHUNK = 100;

function isSelected(selection: Selection, entry: DeadLetter): boolean {
  if (!selection.all) return selection.ids.has(entry.id);
  return entry.status === 'parked' && entry.id <= selection.upTo && !selection.ids.has(entry.id);
}

function selectedCount(selection: Selection): number {
  return selection.all ? Math.max(0, selection.count - selection.ids.size) : selection.ids.size;
}

function outcomeText(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'redriven':
      return '✓ redriven';
    case 'discarded':
      return '✓ discarded';
    case 'skipped':
      return `– skipped: ${outcome.reason}`;
    case 'failed':
      return `✗ failed again: ${firstLine(outcome.error)}`;
  }
}

/** Narrow terminals leave the reason out of the list (the detail pane and the filter have it). */
function showsReason(width: number): boolean {
  return width >= 110;
}

function entryLine(entry: DeadLetter, outcome: Outcome | undefined, now: number, width: number): string {
  const reason = showsReason(width) ? `${clip(entry.reason, 16)} ` : '';
  const fixed = `${String(entry.id).padStart(7)}  ${clip(entry.group, 12)} ${clip(entry.type ?? '(line)', 16)} ${reason}${String(
    entry.attempts,
  ).padStart(3)} ${age(entry.lastFailedAt, now).padStart(5)}  `;
  const tail = outcome
    ? outcomeText(outcome)
    : entry.status === 'parked'
      ? firstLine(entry.error)
      : `(${entry.status})`;
  return (fixed + tail).slice(0, width);
}

/** The envelope of the entry's event as `tail --json` prints it, or the batch line it was. */
async function entryEnvelope(data: InspectorData, entry: DeadLetter): Promise<string | null> {
  if (entry.line !== null) return entry.line;
  if (entry.position === null) return null;
  const [record] = await data.readEvents(
    { fromPosition: entry.position, untilPosition: entry.position },
    { direction: 'forward', limit: 1 },
  );
  return record ? formatEventJson(record) : null;
}

function entryDetail(entry: DeadLetterWithHistory, envelope: string | null, pretty: boolean, now: number): string {
  return [
    `group         ${entry.group} (${entry.source})`,
    `status        ${entry.status}`,
    `reason        ${entry.reason}, after ${entry.attempts} attempt${entry.attempts === 1 ? '' : 's'}`,
    `failed        first ${isoTime(entry.firstFailedAt)}, last ${isoTime(entry.lastFailedAt)} (${age(entry.lastFailedAt, now)} ago)`,
    `event         ${entry.position === null ? 'a batch line (not stored)' : `position ${entry.position}`}${
      entry.topic ? ` on ${entry.topic}` : ''
    }${entry.type ? `, ${entry.type}` : ''}`,
    '',
    'error',
    entry.error,
    '',
    'redrive history',
    ...(entry.history.length === 0
      ? ['  (none)']
      : entry.history.map(
          (step) =>
            `  ${isoTime(step.at)}  ${step.action}${step.position !== null ? ` at position ${step.position}` : ''}${
              step.error ? `: ${step.error}` : ''
            }${step.note ? ` (${step.note})` : ''}`,
        )),
    '',
    entry.line !== null ? 'the batch line' : 'the event',
    envelope === null ? '(the event is not in the store)' : showJson(envelope, pretty),
  ].join('\n');
}

/**
 * The dead letters: a list by id with group, type, reason, attempts, age and the error's first
 * line; a detail pane; filters; selection; redrive and discard with their outcome in place.
 */
export function DeadLettersView({ active, width, height }: { active: boolean; width: number; height: number }) {
  const { data, commits, changed, notify, now, readonly, requestedFilter, captures, first } = useInspector();
  const color = useColor();
  const kept = useRef(new Set<number>()).current;
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<DeadLetterFilter>(() => parseDeadLetterQuery('').filter);
  const prompts = usePrompt<'filter'>('dead-letters');
  const prompt = prompts.current();
  const [selection, setSelection] = useState<Selection>(NO_SELECTION);
  const [outcomes, setOutcomes] = useState<ReadonlyMap<number, Outcome>>(new Map());
  // The question asked before acting on several entries; kept in a ref too, so a y typed right
  // after r answers it.
  const [confirm, setConfirmState] = useState<Confirmation | null>(null);
  const confirmRef = useRef<Confirmation | null>(null);
  const setConfirm = (value: Confirmation | null) => {
    confirmRef.current = value;
    captures['dead-letters'] = value !== null;
    setConfirmState(value);
  };
  const [busy, setBusy] = useState<string | null>(null);
  const { deadLetters } = data;
  // The first frame counted the parked entries already.
  const [total, setTotal] = useState<number | null>(first?.view === 'dead-letters' ? first.parked : null);
  const [detail, setDetail] = useState<{ entry: DeadLetterWithHistory; envelope: string | null } | null>(null);
  const [pretty, setPretty] = useState(true);
  const [window, state] = usePagedWindow(
    () => deadLetterSource(deadLetters, filter, kept),
    useFirstWindow<DeadLetter>('dead-letters'),
  );
  const bottomLine = prompt !== null || confirm !== null || busy !== null;
  const listHeight = height - (bottomLine ? 2 : 1);
  useWindowHeight(window, listHeight - 1);

  // biome-ignore lint/correctness/useExhaustiveDependencies: once, on mount
  useEffect(() => {
    // Read for the first frame already: only keep this view's entries acted on in place.
    if (window.state().loading) void window.openAtStart();
    else window.setSource(deadLetterSource(deadLetters, filter, kept));
  }, [window]);

  // Another process parked, redrove or discarded entries: read the rows on screen again.
  useEffect(() => {
    if (commits > 0 && !busy) void window.refresh();
  }, [commits, busy, window]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: count again on every commit
  useEffect(() => {
    if (commits === 0 && total !== null && query === '') return;
    let live = true;
    deadLetters.count(filter).then(
      (n) => live && setTotal(n),
      (error) => live && notify(`cannot count the dead letters: ${errorText(error)}`, 'error'),
    );
    return () => {
      live = false;
    };
  }, [deadLetters, filter, commits, notify]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a request is applied once, when it arrives
  useEffect(() => {
    if (requestedFilter?.view === 'dead-letters') applyQuery(requestedFilter.filter);
  }, [requestedFilter]);

  function applyQuery(text: string) {
    const parsed = parseDeadLetterQuery(text);
    if (parsed.problem) {
      notify(`filter: ${parsed.problem}`, 'error');
      return;
    }
    setQuery(text);
    setFilter(parsed.filter);
    setSelection(NO_SELECTION);
    setTotal(null);
    void window.openAtStart(deadLetterSource(deadLetters, parsed.filter, kept));
  }

  async function openDetail(id: number) {
    try {
      const entry = await deadLetters.read(id);
      if (!entry) {
        notify(`dead letter ${id} is gone`, 'error');
        return;
      }
      setDetail({ entry, envelope: await entryEnvelope(data, entry) });
    } catch (error) {
      notify(`cannot read dead letter ${id}: ${errorText(error)}`, 'error');
    }
  }

  /** The ids of the parked entries `a` selected, but those deselected, a chunk at a time. */
  async function* allSelected(): AsyncGenerator<number[]> {
    let after = 0;
    for (;;) {
      const page = await deadLetters.list(
        { ...filter, status: 'parked', maxId: selection.upTo },
        { afterId: after, limit: ACTION_CHUNK },
      );
      const ids = page.map((entry) => entry.id).filter((id) => !selection.ids.has(id));
      if (ids.length > 0) yield ids;
      if (page.length < ACTION_CHUNK) return;
      after = (page.at(-1) as DeadLetter).id;
    }
  }

  /** `a`: every parked entry the filter shows now, pinned to the highest id and the count of this moment. */
  async function selectAll() {
    if (filter.status !== undefined && filter.status !== 'parked') {
      notify('nothing parked to select here', 'info');
      return;
    }
    const parked: DeadLetterFilter = { ...filter, status: 'parked' };
    try {
      const [[highest], parkedCount] = await Promise.all([
        deadLetters.list(parked, { beforeId: Number.MAX_SAFE_INTEGER, limit: 1 }),
        deadLetters.count(parked),
      ]);
      if (!highest) {
        notify('nothing parked to select here', 'info');
        return;
      }
      setSelection({ all: true, ids: new Set(), upTo: highest.id, count: parkedCount });
    } catch (error) {
      notify(`cannot select: ${errorText(error)}`, 'error');
    }
  }

  async function* chunks(ids: number[]): AsyncGenerator<number[]> {
    for (let i = 0; i < ids.length; i += ACTION_CHUNK) yield ids.slice(i, i + ACTION_CHUNK);
  }

  async function perform(action: Action, ids: number[] | 'all', entries: number) {
    const verb = action === 'redrive' ? 'redriving' : 'discarding';
    const results = new Map<number, Outcome>();
    let done = 0;
    let succeeded = 0;
    let skipped = 0;
    setBusy(`${verb} ${count(entries)} entr${entries === 1 ? 'y' : 'ies'}…`);
    try {
      for await (const chunk of ids === 'all' ? allSelected() : chunks(ids)) {
        if (action === 'redrive') {
          for (const result of await deadLetters.redrive(chunk)) {
            if (result.outcome === 'redriven') {
              results.set(result.id, { kind: 'redriven' });
              succeeded++;
            } else if (result.outcome === 'failed') {
              results.set(result.id, { kind: 'failed', error: result.error ?? 'failed' });
            } else {
              results.set(result.id, { kind: 'skipped', reason: result.error ?? 'not parked' });
              skipped++;
            }
          }
        } else {
          for (const result of await deadLetters.discard(chunk)) {
            if (result.outcome === 'discarded') {
              results.set(result.id, { kind: 'discarded' });
              succeeded++;
            } else {
              results.set(result.id, { kind: 'skipped', reason: result.reason ?? 'not parked' });
              skipped++;
            }
          }
        }
        done += chunk.length;
        for (const id of chunk) if (kept.size < MAX_KEPT_IN_PLACE) kept.add(id);
        setBusy(`${verb}: ${count(done)} of ${count(entries)}…`);
      }
      const failed = done - succeeded - skipped;
      const skippedText = skipped ? `, ${count(skipped)} skipped` : '';
      notify(
        action === 'redrive'
          ? `redrive: ${count(succeeded)} redriven${failed ? `, ${count(failed)} failed again` : ''}${skippedText}`
          : `discard: ${count(succeeded)} discarded${skippedText}`,
        failed || skipped ? 'error' : 'info',
      );
    } catch (error) {
      notify(`${action} stopped after ${count(done)} of ${count(entries)}: ${errorText(error)}`, 'error');
    } finally {
      setOutcomes((current) => new Map([...current, ...results]));
      setSelection(NO_SELECTION);
      setBusy(null);
      changed();
      await window.refresh();
      if (detail) await openDetail(detail.entry.id);
    }
  }

  /** r or d: the selection, or the entry under the cursor (or in the detail pane); y/n when more than one. */
  function request(action: Action) {
    if (readonly) {
      notify(`read-only: ${action} is off (started with --readonly)`, 'error');
      return;
    }
    if (busy) return;
    const hasSelection = selection.all || selection.ids.size > 0;
    if (!detail && hasSelection) {
      const ids = selection.all ? 'all' : [...selection.ids].sort((a, b) => a - b);
      const entries = selectedCount(selection);
      if (entries > 1) setConfirm({ action, ids, entries });
      else void perform(action, ids, entries);
      return;
    }
    const entry = detail?.entry ?? window.current();
    if (!entry) return;
    if (entry.status !== 'parked') {
      notify(
        `dead letter ${entry.id} is ${entry.status}: only parked entries can be ${action === 'redrive' ? 'redriven' : 'discarded'}`,
        'error',
      );
      return;
    }
    void perform(action, [entry.id], 1);
  }

  const captured = prompt !== null || confirm !== null;
  const selected = selectedCount(selection);
  const actions = readonly ? '' : '  r redrive  d discard';
  const hints = confirm
    ? 'y yes  n no'
    : prompt !== null
      ? 'Enter apply  Esc cancel'
      : detail
        ? `Esc back  ↑↓ scroll  p pretty/raw${actions}`
        : `Enter open  / filter  space/a select${actions}`;
  useViewMode('dead-letters', hints, captured);

  useKeys(
    (input, key) => {
      if (prompts.handle(input, key)) return;
      const asked = confirmRef.current;
      if (asked) {
        if (input === 'y' || input === 'Y') {
          setConfirm(null);
          void perform(asked.action, asked.ids, asked.entries);
        } else if (input === 'n' || input === 'N' || key.escape) setConfirm(null);
        return;
      }
      if (input === 'r') {
        request('redrive');
        return;
      }
      if (input === 'd') {
        request('discard');
        return;
      }
      if (detail) {
        if (key.escape) setDetail(null);
        else if (input === 'p') setPretty((p) => !p);
        return;
      }
      const current = window.current();
      const move = movement(input, key, listHeight - 2);
      if (move !== null) {
        if (move === 'start') void window.openAtStart();
        else if (move === 'end') void window.openAtEnd();
        else void window.move(move);
      } else if (key.return && current) void openDetail(current.id);
      else if (input === '/') {
        prompts.open('filter', 'filter (group:g type:t reason:r status:s text): ', query, (text) =>
          applyQuery(text.trim()),
        );
      } else if (input === ' ' && current) {
        setSelection((before) => {
          const ids = new Set(before.ids);
          if (ids.has(current.id)) ids.delete(current.id);
          else ids.add(current.id);
          return { ...before, ids };
        });
        void window.move(1);
      } else if (input === 'a') {
        // a again (everything selected) selects nothing.
        if (selection.all && selection.ids.size === 0) setSelection(NO_SELECTION);
        else void selectAll();
      } else if (key.escape) {
        if (selection.all || selection.ids.size > 0) setSelection(NO_SELECTION);
        else if (query !== '') applyQuery('');
      }
    },
    { isActive: active },
  );

  if (detail) {
    const outcome = outcomes.get(detail.entry.id);
    return (
      <Box flexDirection="column" width={width} height={height}>
        <ScrollPane
          title={`dead letter ${detail.entry.id} · ${detail.entry.group} · ${detail.entry.type ?? 'batch line'}${
            pretty ? '' : ' (raw)'
          }`}
          text={entryDetail(detail.entry, detail.envelope, pretty, now())}
          width={width}
          height={height - 1}
          active={active}
        />
        <Text color={outcome?.kind === 'failed' ? color('red') : color('green')}>
          {clip(busy ?? (outcome ? outcomeText(outcome) : ''), width)}
        </Text>
      </Box>
    );
  }

  const title = `${total === null ? '…' : count(total)} ${filter.status ?? 'entries of any status'}${
    query ? ` · filter: ${query}` : ''
  }${selected > 0 ? ` · ${count(selected)} selected` : ''}`;
  const time = now();
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={state.error ? color('red') : color('cyan')}>
        {clip(state.error ? `error: ${state.error}` : title, width)}
      </Text>
      <ListLines
        header={`${'ID'.padStart(7)}  ${'GROUP'.padEnd(12)} ${'TYPE'.padEnd(16)} ${
          showsReason(width - 3) ? `${'REASON'.padEnd(16)} ` : ''
        }ATT   AGE  ERROR`}
        lines={state.rows.slice(state.top, state.top + listHeight - 1).map((entry) => {
          const outcome = outcomes.get(entry.id);
          return {
            key: entry.id,
            text: entryLine(entry, outcome, time, width - 3),
            selected: isSelected(selection, entry),
            color:
              outcome?.kind === 'failed'
                ? 'red'
                : outcome?.kind === 'skipped'
                  ? 'yellow'
                  : outcome
                    ? 'green'
                    : undefined,
            dim: !outcome && entry.status !== 'parked',
          };
        })}
        cursor={state.cursor - state.top}
        width={width}
        height={listHeight}
        empty={state.loading ? 'reading…' : query ? 'no dead letter matches the filter' : 'no parked dead letters'}
      />
      {prompt !== null ? (
        <PromptLine label={prompt.label} text={prompt.text} width={width} />
      ) : bottomLine ? (
        <Text color={confirm ? color('yellow') : undefined} bold={confirm !== null}>
          {clip(confirm ? `${confirm.action} ${count(confirm.entries)} entries? y/n` : (busy ?? ''), width)}
        </Text>
      ) : null}
    </Box>
  );
}
