import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { parseFrom } from '../../input/parse-range.js';
import { isoTime } from '../../output/format-event.js';
import { formatStreamName } from '../../store/stream-name.js';
import type { EventRecord } from '../../store/types.js';
import { correlationIdOf, eventSource } from '../events-source.js';
import { parseEventQuery } from '../filter-query.js';
import { clip, count, displayWidth, shortTime, showJson, truncate } from '../format.js';
import { errorText, useColor, useFirstWindow, useInspector, useViewMode } from '../inspector-context.js';
import { useKeys } from '../keyboard.js';
import { movement } from '../keys.js';
import { ListLines } from '../list-lines.js';
import { ScrollPane } from '../scroll-pane.js';
import { PromptLine, usePrompt } from '../text-prompt.js';
import { usePagedWindow, useWindowHeight } from '../use-paged-window.js';

/** Narrow terminals get the time without its year. */
function timeText(ms: number, width: number): string {
  return width >= 110 ? shortTime(ms) : shortTime(ms).slice(5);
}

function eventLine(record: EventRecord, width: number): string {
  const stream = `${formatStreamName(record.topic, record.key)}@${record.version}`;
  const fixed = `${String(record.position).padStart(9)}  ${timeText(record.time, width)}  ${clip(stream, 26)} ${clip(record.type, 18)} `;
  // Cut by columns between whole characters: slicing UTF-16 could split a surrogate pair (`�`).
  return fixed + truncate(record.dataJson, Math.max(0, width - displayWidth(fixed)));
}

function eventDetail(record: EventRecord, pretty: boolean): string {
  const correlationId = correlationIdOf(record);
  return [
    `id            ${record.id}`,
    `stream        ${formatStreamName(record.topic, record.key)} (version ${record.version})`,
    `type          ${record.type}${record.schemaVersion === null ? '' : ` (schema v${record.schemaVersion})`}`,
    `recorded      ${isoTime(record.time)}`,
    ...(correlationId ? [`correlation   ${correlationId}   (c: every event of this flow)`] : []),
    '',
    'data',
    showJson(record.dataJson, pretty),
    '',
    'metadata',
    showJson(record.metadataJson, pretty),
  ].join('\n');
}

/**
 * The log, newest last: filter by topic, type, key or text, jump to a position or a time,
 * follow new events live, open an event, and trace its correlation id.
 */
export function EventsView({ active, width, height }: { active: boolean; width: number; height: number }) {
  const { data, commits, notify, now, requestedFilter } = useInspector();
  const color = useColor();
  const [query, setQuery] = useState('');
  const prompts = usePrompt<'filter' | 'goto'>('events');
  const prompt = prompts.current();
  const [detail, setDetail] = useState<EventRecord | null>(null);
  const [pretty, setPretty] = useState(true);
  const [follow, setFollow] = useState(false);
  // The filter and the event before a correlation trace, to return to with Esc.
  const [beforeTrace, setBeforeTrace] = useState<{ query: string; position: number } | null>(null);
  const [window, state] = usePagedWindow(() => eventSource(data, parseEventQuery('')), useFirstWindow('events'));
  const listHeight = height - (prompt ? 2 : 1);
  useWindowHeight(window, listHeight - 1);

  useEffect(() => {
    // Unless it was read for the first frame.
    if (window.state().loading) void window.openAtEnd();
    // A search still running when the view goes (q) stops at its next store page.
    return () => window.cancel();
  }, [window]);

  // New commits: read what was appended (and move to it when following).
  useEffect(() => {
    if (commits > 0) void window.extendEnd(follow);
  }, [commits, follow, window]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a request is applied once, when it arrives
  useEffect(() => {
    if (requestedFilter?.view === 'events') applyQuery(requestedFilter.filter);
  }, [requestedFilter]);

  function applyQuery(text: string, at?: number) {
    setQuery(text);
    const source = eventSource(data, parseEventQuery(text));
    if (at !== undefined) void window.openAt(at, source);
    else void window.openAtEnd(source);
  }

  async function goTo(text: string) {
    try {
      const bound = parseFrom(text.trim(), now());
      const position = bound.kind === 'position' ? bound.position : await data.findPositionAtOrAfter(bound.time);
      if (position === null) {
        notify(`no event recorded at or after ${text.trim()}`, 'error');
        return;
      }
      setFollow(false);
      await window.openAt(position);
    } catch (error) {
      notify(errorText(error), 'error');
    }
  }

  const captured = prompt !== null;
  const hints = prompt
    ? 'Enter apply  Esc cancel'
    : detail
      ? 'Esc back  ↑↓ scroll  p pretty/raw  c correlation trace'
      : `Enter open  / filter  g go to  f follow${follow ? ' (on)' : ''}  c correlation trace`;
  useViewMode('events', hints, captured);

  useKeys(
    (input, key) => {
      if (prompts.handle(input, key)) return;
      const current = window.current();
      if (input === 'c' && (detail ?? current)) {
        const record = (detail ?? current) as EventRecord;
        const id = correlationIdOf(record);
        if (!id) {
          notify(`event ${record.position} has no metadata.correlationId`, 'error');
          return;
        }
        setDetail(null);
        setFollow(false);
        setBeforeTrace(beforeTrace ?? { query, position: record.position });
        applyQuery(`corr:${id}`, record.position);
        return;
      }
      // Esc during a long search stops it where it got (a key goes on from there).
      if (key.escape && !detail && window.state().searching) {
        window.cancel();
        return;
      }
      if (detail) {
        if (key.escape) setDetail(null);
        else if (input === 'p') setPretty((p) => !p);
        return;
      }
      const move = movement(input, key, listHeight - 2);
      if (move !== null) {
        if (follow && move !== 'end') setFollow(false);
        if (move === 'start') void window.openAtStart();
        else if (move === 'end') void window.openAtEnd();
        else void window.move(move);
      } else if (key.return && current) setDetail(current);
      else if (input === '/') {
        prompts.open('filter', 'filter (topic:t type:t key:k corr:id text): ', query, (text) => {
          setBeforeTrace(null);
          applyQuery(text.trim());
        });
      } else if (input === 'g') prompts.open('goto', 'go to (position, time, 15m): ', '', (text) => void goTo(text));
      else if (input === 'f') {
        const next = !follow;
        setFollow(next);
        if (next) void window.openAtEnd();
      } else if (input === 'p') setPretty((p) => !p);
      else if (key.escape && (query !== '' || beforeTrace !== null)) {
        setBeforeTrace(null);
        // Back from a trace: to the event it was opened on, under the filter before it.
        if (beforeTrace) applyQuery(beforeTrace.query === query ? '' : beforeTrace.query, beforeTrace.position);
        else applyQuery('');
      }
    },
    { isActive: active },
  );

  if (detail) {
    return (
      <ScrollPane
        title={`event ${detail.position} · ${detail.type}${pretty ? '' : ' (raw)'}`}
        text={eventDetail(detail, pretty)}
        width={width}
        height={height}
        active={active}
      />
    );
  }

  const parsed = parseEventQuery(query);
  const title = parsed.correlationId
    ? `trace of correlation id ${parsed.correlationId} (Esc: back)`
    : query
      ? `filter: ${query}`
      : 'all events';
  const where = state.rows.length
    ? `${count((state.rows[0] as EventRecord).position)}–${count((state.rows.at(-1) as EventRecord).position)}`
    : '';
  const { searched } = state;
  const scanning = state.searching
    ? ' · searching… (Esc: stop)'
    : searched
      ? searched.direction === 'backward'
        ? ` · searched back to position ${count(searched.key)}: ↑ to go on`
        : ` · searched up to position ${count(searched.key)}: ↓ to go on`
      : state.rows.length === 0 && state.moreBefore
        ? ' · searching older events: ↑ to go on'
        : '';
  const status = `${title}${follow ? ' · following' : ''}${scanning}${where ? ` · positions ${where} held` : ''}`;

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={state.error ? color('red') : color('cyan')}>
        {clip(state.error ? `error: ${state.error}` : status, width)}
      </Text>
      <ListLines
        header={`${'POSITION'.padStart(9)}  ${'RECORDED (UTC)'.padEnd(width - 3 >= 110 ? 19 : 14)}  ${'STREAM'.padEnd(
          26,
        )} ${'TYPE'.padEnd(18)} DATA`}
        lines={state.rows.slice(state.top, state.top + listHeight - 1).map((record) => ({
          key: record.position,
          text: eventLine(record, width - 3),
        }))}
        cursor={state.cursor - state.top}
        width={width}
        height={listHeight}
        empty={state.loading ? 'reading…' : query ? 'no event matches the filter' : 'no events yet'}
      />
      {prompt ? <PromptLine label={prompt.label} text={prompt.text} width={width} /> : null}
    </Box>
  );
}
