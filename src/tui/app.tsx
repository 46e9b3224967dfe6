import { Box, Text, useApp } from 'ink';
import {
  Component,
  type ReactNode,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { StoreHead } from '../store/types.js';
import type { FirstFrame } from './first-frame.js';
import { clip, count } from './format.js';
import { HelpPane } from './help-pane.js';
import {
  createHints,
  errorText,
  type Hints,
  InspectorContext,
  type InspectorContextValue,
  VIEWS,
  type ViewId,
} from './inspector-context.js';
import type { InspectorData } from './inspector-data.js';
import { KeyboardProvider, useKeys } from './keyboard.js';
import { useTerminalSize } from './use-terminal-size.js';
import { ConsumersView } from './views/consumers-view.js';
import { DeadLettersView } from './views/dead-letters-view.js';
import { EventsView } from './views/events-view.js';
import { ProjectionsView } from './views/projections-view.js';
import { SchemasView } from './views/schemas-view.js';

export interface InspectorProps {
  data: InspectorData;
  readonly: boolean;
  colors: boolean;
  now: () => number;
  /** The view it opens on; with `first`, what was read for the first frame. */
  initialView: ViewId;
  first?: FirstFrame;
}

/** Commit notifications are folded into at most one refresh per this many ms. */
const COMMIT_THROTTLE_MS = 150;

/** A view that throws while rendering shows the error in its place; the others go on. */
class ViewBoundary extends Component<{ children: ReactNode; width: number }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (this.state.error) {
      return <Text>{clip(`this view failed: ${this.state.error.message}`, this.props.width)}</Text>;
    }
    return this.props.children;
  }
}

/**
 * The status bar: the head, the keys of the view and the store; help and quit always show at
 * the right. After the views in the tree, so the first frame already has the keys they wrote.
 */
function StatusBar({
  where,
  store,
  view,
  help,
  hints,
  width,
}: {
  where: string;
  store: string;
  view: ViewId;
  help: boolean;
  hints: Hints;
  width: number;
}) {
  const keys = useSyncExternalStore(hints.subscribe, () => hints.of(view));
  const right = ' ? help  q quit ';
  // The store path last: on a narrow terminal it is what gets cut, not what r and d do.
  const status = [where, help ? 'Esc close help' : keys, store].filter((part) => part !== '').join(' │ ');
  return (
    <Text inverse>
      {clip(` ${status}`, width - right.length)}
      {right}
    </Text>
  );
}

type ViewProps = { active: boolean; width: number; height: number };
const VIEW_COMPONENTS: Record<ViewId, (props: ViewProps) => ReactNode> = {
  'dead-letters': DeadLettersView,
  events: EventsView,
  projections: ProjectionsView,
  consumers: ConsumersView,
  schemas: SchemasView,
};

/** The inspector: a tab line, the active view, a message line and a status bar. */
export function Inspector(props: InspectorProps) {
  return (
    <KeyboardProvider>
      <InspectorScreen {...props} />
    </KeyboardProvider>
  );
}

function InspectorScreen({ data, readonly, colors, now, initialView, first }: InspectorProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [view, setView] = useState<ViewId>(initialView);
  const [visited, setVisited] = useState<ReadonlySet<ViewId>>(() => new Set([initialView]));
  const [help, setHelp] = useState(false);
  const [message, setMessage] = useState<{ text: string; kind: 'info' | 'error' } | null>(null);
  const [captures] = useState<Partial<Record<ViewId, boolean>>>(() => ({}));
  const [hints] = useState(createHints);
  const [commits, setCommits] = useState(0);
  const [head, setHead] = useState<StoreHead | null>(first?.head ?? null);
  const [parked, setParked] = useState<number | null>(first?.parked ?? null);
  const [requestedFilter, setRequestedFilter] = useState<InspectorContextValue['requestedFilter']>(null);
  const messageTimer = useRef<NodeJS.Timeout | undefined>(undefined);

  const notify = useCallback((text: string, kind: 'info' | 'error' = 'info') => {
    clearTimeout(messageTimer.current);
    setMessage({ text, kind });
    // Results fade after a while; errors stay until something else is said.
    if (kind === 'info') messageTimer.current = setTimeout(() => setMessage(null), 8000);
  }, []);
  useEffect(() => () => clearTimeout(messageTimer.current), []);

  const changed = useCallback(() => setCommits((n) => n + 1), []);

  // What was said was about the view left behind.
  // biome-ignore lint/correctness/useExhaustiveDependencies: cleared when the view changes
  useEffect(() => setMessage(null), [view]);

  const switchTo = useCallback((id: ViewId) => {
    setView(id);
    setVisited((current) => (current.has(id) ? current : new Set([...current, id])));
  }, []);
  const show = useCallback(
    (id: ViewId, filter?: string) => {
      switchTo(id);
      if (filter !== undefined)
        setRequestedFilter((current) => ({ view: id, filter, serial: (current?.serial ?? 0) + 1 }));
    },
    [switchTo],
  );

  // Commits by any process: folded, then every view reads again.
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined;
    let pending = false;
    const tick = () => {
      timer = undefined;
      if (!pending) return;
      pending = false;
      setCommits((n) => n + 1);
      timer = setTimeout(tick, COMMIT_THROTTLE_MS);
    };
    const stop = data.watchCommits(() => {
      pending = true;
      if (!timer) tick();
    });
    return () => {
      stop();
      clearTimeout(timer);
    };
  }, [data]);

  // Read again on every commit (but not at once: the first frame read them already).
  useEffect(() => {
    // Read for the first frame already.
    if (commits === 0 && first) return;
    let live = true;
    data.head().then(
      (value) => live && setHead(value),
      (error) => live && notify(`cannot read the head: ${errorText(error)}`, 'error'),
    );
    data.deadLetters.count({ status: 'parked' }).then(
      (value) => live && setParked(value),
      (error) => live && notify(`cannot count the dead letters: ${errorText(error)}`, 'error'),
    );
    return () => {
      live = false;
    };
  }, [data, commits, notify, first]);

  useKeys(
    (input, key) => {
      if (key.ctrl && input === 'c') {
        exit();
        return;
      }
      if (help) {
        if (key.escape || input === '?') setHelp(false);
        else if (input === 'q') exit();
        return;
      }
      if (captures[view] === true) return;
      if (input === 'q') exit();
      else if (input === '?') setHelp(true);
      else if (/^[1-5]$/.test(input)) switchTo((VIEWS[Number(input) - 1] as (typeof VIEWS)[number]).id);
      else if (key.tab) {
        const index = VIEWS.findIndex((v) => v.id === view);
        const next = (index + (key.shift ? VIEWS.length - 1 : 1)) % VIEWS.length;
        switchTo((VIEWS[next] as (typeof VIEWS)[number]).id);
      }
    },
    { isActive: true },
  );

  const context = useMemo<InspectorContextValue>(
    () => ({
      data,
      readonly,
      colors,
      now,
      commits,
      changed,
      notify,
      captures,
      hints,
      show,
      requestedFilter,
      first: first ?? null,
    }),
    [data, readonly, colors, now, commits, changed, notify, captures, hints, show, requestedFilter, first],
  );

  const width = Math.max(20, columns);
  const bodyHeight = Math.max(3, rows - 3);
  const tabs = VIEWS.map((v, index) => {
    const label = v.id === 'dead-letters' && parked !== null ? `${v.title} (${count(parked)})` : v.title;
    return { id: v.id, text: ` ${index + 1} ${label} ` };
  });
  const tabsWidth = tabs.reduce((sum, tab) => sum + tab.text.length, 0);
  const where = [head === null ? 'head …' : `head ${count(head.position)}`, ...(readonly ? ['read-only'] : [])];

  return (
    <InspectorContext.Provider value={context}>
      <Box flexDirection="column" width={width} height={rows}>
        <Box height={1}>
          {tabs.map((tab) => (
            <Text key={tab.id} inverse={tab.id === view} bold={tab.id === view}>
              {tab.text}
            </Text>
          ))}
          <Text>{' '.repeat(Math.max(0, width - tabsWidth))}</Text>
        </Box>
        <Box height={bodyHeight} flexDirection="column">
          {help ? <HelpPane width={width} height={bodyHeight} readonly={readonly} /> : null}
          {VIEWS.filter((v) => visited.has(v.id)).map((v) => {
            const ViewComponent = VIEW_COMPONENTS[v.id];
            return (
              <Box key={v.id} display={v.id === view && !help ? 'flex' : 'none'} flexDirection="column">
                <ViewBoundary width={width}>
                  <ViewComponent active={v.id === view && !help} width={width} height={bodyHeight} />
                </ViewBoundary>
              </Box>
            );
          })}
        </Box>
        <Text color={message?.kind === 'error' && colors ? 'red' : undefined} bold={message?.kind === 'error'}>
          {clip(message ? message.text : '', width)}
        </Text>
        <StatusBar
          where={where.join(' │ ')}
          store={data.storePath}
          view={view}
          help={help}
          hints={hints}
          width={width}
        />
      </Box>
    </InspectorContext.Provider>
  );
}
