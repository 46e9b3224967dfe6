import { useCallback, useEffect, useState } from 'react';
import { errorText } from './inspector-context.js';

/**
 * What a view shows from the store: read when the view mounts and again after every commit
 * (`commits` changes), and on `reload()`. A failed read keeps the last value and sets `error`,
 * which the view shows in place of its summary line: the inspector never crashes on one.
 * `read` must be stable (useCallback), or it is read again at every render.
 */
export function useStoreRead<T>(read: () => Promise<T>, commits: unknown) {
  const [value, setValue] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    try {
      setValue(await read());
      setError(null);
    } catch (failure) {
      setError(errorText(failure));
    }
  }, [read]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: read again on every commit
  useEffect(() => {
    void reload();
  }, [reload, commits]);

  return { value, error, setError, reload };
}
