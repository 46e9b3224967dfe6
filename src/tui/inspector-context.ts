import { createContext, useContext, useEffect } from 'react';
import type { FirstFrame } from './first-frame.js';
import type { InspectorData } from './inspector-data.js';
import type { PagedWindow } from './paged-window.js';

export type ViewId = 'dead-letters' | 'events' | 'projections' | 'consumers' | 'schemas';

export const VIEWS: readonly { id: ViewId; title: string }[] = [
  { id: 'dead-letters', title: 'Dead letters' },
  { id: 'events', title: 'Events' },
  { id: 'projections', title: 'Projections' },
  { id: 'consumers', title: 'Consumers' },
  { id: 'schemas', title: 'Schemas' },
];

/** What every view shares: the data, the modes, and the app's status line. */
export interface InspectorContextValue {
  data: InspectorData;
  readonly: boolean;
  /** False with NO_COLOR or --no-color: views then use no colour, only bold and inverse. */
  colors: boolean;
  now: () => number;
  /** Grows soon after any process commits to the store: views read again when it changes. */
  commits: number;
  /**
   * Says this process changed the store (a redrive, a rebuild): the store's watch reports
   * only other processes' commits.
   */
  changed(): void;
  /** Puts a message on the status line (an action's result, or an error that did not crash anything). */
  notify(message: string, kind?: 'info' | 'error'): void;
  /**
   * Which views take typed text now (a filter, a prompt, y/n): the global keys then go to
   * them. Written while rendering, so the very next key already sees it.
   */
  captures: Partial<Record<ViewId, boolean>>;
  /** The keys of each view's current mode, for the status bar. */
  hints: Hints;
  /** Shows another view (e.g. a consumer group's dead letters), optionally with a filter. */
  show(view: ViewId, filter?: string): void;
  /** What was read before the first frame (the opening view's list, the head, the parked count). */
  first: FirstFrame | null;
  /** The filter a `show` asked for, once per request. */
  requestedFilter: { view: ViewId; filter: string; serial: number } | null;
}

export const InspectorContext = createContext<InspectorContextValue | null>(null);

export function useInspector(): InspectorContextValue {
  const value = useContext(InspectorContext);
  if (!value) throw new Error('useInspector: outside the inspector');
  return value;
}

/** Publishes a view's key hints and whether it takes typed text. */
export function useViewMode(view: ViewId, keys: string, captured: boolean): void {
  const { hints, captures } = useInspector();
  captures[view] = captured;
  // Written while rendering, for the status bar drawn after the view; then told, for the
  // status bar to draw again if the keys changed.
  hints.set(view, keys);
  // biome-ignore lint/correctness/useExhaustiveDependencies: told each time the keys change
  useEffect(() => hints.changed(), [hints, keys]);
}

/** Each view's keys, for the status bar: written by the views as they render. */
export interface Hints {
  set(view: ViewId, keys: string): void;
  of(view: ViewId): string;
  changed(): void;
  subscribe(listener: () => void): () => void;
}

export function createHints(): Hints {
  const keys: Partial<Record<ViewId, string>> = {};
  const listeners = new Set<() => void>();
  return {
    set(view, text) {
      keys[view] = text;
    },
    of: (view) => keys[view] ?? '',
    changed() {
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** The list read for the first frame, when `view` is the one it was read for. */
export function useFirstWindow<T>(view: ViewId): PagedWindow<T> | null {
  const { first } = useInspector();
  return first?.view === view ? (first.window as PagedWindow<T> | null) : null;
}

/** A colour when colours are on. */
export function useColor(): (color: string) => string | undefined {
  const { colors } = useInspector();
  return (color) => (colors ? color : undefined);
}

/** A readable message of anything thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
