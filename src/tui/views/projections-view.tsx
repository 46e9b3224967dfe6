import { Box, Text } from 'ink';
import { useCallback, useEffect, useState } from 'react';
import type { ProjectionStatusView } from '../../projections/index.js';
import { clip, count } from '../format.js';
import { errorText, useColor, useInspector, useViewMode } from '../inspector-context.js';
import { useKeys } from '../keyboard.js';
import { movement } from '../keys.js';
import { ListLines } from '../list-lines.js';
import { ScrollPane } from '../scroll-pane.js';
import { useStoreRead } from '../use-store-read.js';

/** Statuses (running, rebuilding) depend on heartbeats: read them again this often even without commits. */
const REFRESH_MS = 2000;

function projectionLine(view: ProjectionStatusView, width: number): string {
  const error = view.lastError ? `at ${view.lastError.position}: ${view.lastError.message}` : '';
  return `${clip(view.name, 20)} ${String(view.version ?? '-').padStart(7)}  ${clip(view.status, 10)} ${count(
    view.checkpoint,
  ).padStart(11)} ${count(view.lag).padStart(11)} ${count(view.keys).padStart(9)}  ${error}`.slice(0, width);
}

/** `rebuildError`: the full error of this session's last rebuild of it, when that failed. */
function projectionDetail(view: ProjectionStatusView, rebuildError: string | undefined): string {
  return [
    `version      ${view.version ?? '(not in the config)'}${
      view.storedVersion !== null && view.storedVersion !== view.version
        ? ` (read model built by version ${view.storedVersion})`
        : ''
    }`,
    `status       ${view.status}`,
    `checkpoint   ${count(view.checkpoint)}`,
    `head         ${count(view.head)}`,
    `lag          ${count(view.lag)}`,
    `keys         ${count(view.keys)}`,
    `parked       ${view.parked ? `${count(view.parked)} events parked as dead letters (1, filter group:${view.name})` : '0'}`,
    ...(view.rebuild ? [`rebuild      at position ${count(view.rebuild.checkpoint)}`] : []),
    ...(rebuildError === undefined ? [] : ['', 'last rebuild (R) failed', rebuildError]),
    '',
    'last error',
    view.lastError ? `at position ${view.lastError.position}:\n${view.lastError.message}` : '(none)',
  ].join('\n');
}

/** A copy of `map` with `key` set to `value`, or removed when it is undefined. */
function withEntry(
  map: ReadonlyMap<string, string>,
  key: string,
  value: string | undefined,
): ReadonlyMap<string, string> {
  const next = new Map(map);
  if (value === undefined) next.delete(key);
  else next.set(key, value);
  return next;
}

/** `[██████░░░░░░]  45%  450,000 / 1,000,000` */
export function progressBar(done: number, total: number, width: number): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const label = ` ${String(Math.floor(share * 100)).padStart(3)}%  ${count(done)} / ${count(total)}`;
  const barWidth = Math.max(5, width - label.length - 2);
  const filled = Math.round(share * barWidth);
  return `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]${label}`;
}

/** Name, version, status, checkpoint, lag (live), keys, last error; R rebuilds the one under the cursor. */
export function ProjectionsView({ active, width, height }: { active: boolean; width: number; height: number }) {
  const { data, commits, changed, readonly, notify } = useInspector();
  const color = useColor();
  const [cursor, setCursor] = useState(0);
  const [detail, setDetail] = useState(false);
  const [rebuild, setRebuild] = useState<{ name: string; done: number; total: number } | null>(null);
  // Per projection, the full error of its last rebuild here when that failed (the status line shows it cut).
  const [rebuildErrors, setRebuildErrors] = useState<ReadonlyMap<string, string>>(new Map());

  const read = useCallback(() => data.listProjections(), [data]);
  const { value: views, error, reload: load } = useStoreRead(read, commits);
  useEffect(() => {
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const list = views ?? [];
  const current = list[Math.min(cursor, list.length - 1)];

  async function startRebuild(name: string) {
    setRebuild({ name, done: 0, total: 0 });
    try {
      const report = await data.rebuildProjection(name, (done, total) => setRebuild({ name, done, total }));
      notify(`rebuilt ${name}: ${count(report.events)} events folded, checkpoint ${count(report.to)}`);
      setRebuildErrors((errors) => withEntry(errors, name, undefined));
    } catch (failure) {
      const text = errorText(failure);
      setRebuildErrors((errors) => withEntry(errors, name, text));
      notify(`rebuild of ${name} failed: ${text} (Enter: the whole error)`, 'error');
    } finally {
      setRebuild(null);
      changed();
    }
  }

  useViewMode('projections', detail ? 'Esc back  ↑↓ scroll' : `Enter details${readonly ? '' : '  R rebuild'}`, false);

  useKeys(
    (input, key) => {
      if (detail) {
        if (key.escape) setDetail(false);
        return;
      }
      const move = movement(input, key, height - 4);
      if (move !== null) {
        const last = Math.max(0, list.length - 1);
        setCursor((c) => (move === 'start' ? 0 : move === 'end' ? last : Math.max(0, Math.min(last, c + move))));
      } else if (key.return && current) setDetail(true);
      else if (input === 'R' && current) {
        if (readonly) notify('read-only: rebuilding is off (started with --readonly)', 'error');
        else if (rebuild) notify(`${rebuild.name} is being rebuilt: one rebuild at a time`, 'error');
        else if (current.version === null)
          notify(`${current.name} is not in the config: it cannot be rebuilt`, 'error');
        else void startRebuild(current.name);
      }
    },
    { isActive: active },
  );

  if (detail && current) {
    return (
      <ScrollPane
        title={`projection ${current.name}`}
        text={projectionDetail(current, rebuildErrors.get(current.name))}
        width={width}
        height={height}
        active={active}
      />
    );
  }

  const listHeight = height - (rebuild ? 2 : 1);
  const top = Math.max(0, cursor - (listHeight - 2));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={error ? color('red') : color('cyan')}>
        {clip(error ? `error: ${error}` : `${list.length} projections · lag = head − checkpoint`, width)}
      </Text>
      <ListLines
        header={`${'NAME'.padEnd(20)} VERSION  ${'STATUS'.padEnd(10)}  CHECKPOINT         LAG      KEYS  LAST ERROR`}
        lines={list.slice(top, top + listHeight - 1).map((view) => ({
          key: view.name,
          text: projectionLine(view, width - 3),
          color: view.status === 'failed' ? 'red' : view.status === 'stale' ? 'yellow' : undefined,
        }))}
        cursor={cursor - top}
        width={width}
        height={listHeight}
        empty={views === null ? 'reading…' : 'no projections: declare them in evlog.config.mjs under `projections`'}
      />
      {rebuild ? (
        <Text color={color('green')}>
          {clip(
            `rebuilding ${rebuild.name} ${progressBar(rebuild.done, rebuild.total, width - rebuild.name.length - 12)}`,
            width,
          )}
        </Text>
      ) : null}
    </Box>
  );
}
