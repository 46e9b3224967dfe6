import { useEffect, useState, useSyncExternalStore } from 'react';
import { type PagedSource, PagedWindow, type PagedWindowOptions, type WindowState } from './paged-window.js';

/**
 * A PagedWindow that lives as long as the component, and its state, re-rendered on change;
 * `opened`: one read already (for the first frame).
 */
export function usePagedWindow<T>(
  makeSource: () => PagedSource<T>,
  opened?: PagedWindow<T> | null,
  options?: PagedWindowOptions,
): [PagedWindow<T>, WindowState<T>] {
  const [window] = useState(() => opened ?? new PagedWindow(makeSource(), options));
  const state = useSyncExternalStore(
    (listener) => window.subscribe(listener),
    () => window.state(),
  );
  return [window, state];
}

/** Sets the window's height from the rows a view has for its list. */
export function useWindowHeight(window: PagedWindow<unknown>, height: number): void {
  useEffect(() => window.setHeight(height), [window, height]);
}
