import { type Key, useInput } from 'ink';
import { createContext, type ReactNode, useContext, useId, useLayoutEffect, useState } from 'react';

type KeyHandler = (input: string, key: Key) => void;

interface Registry {
  handlers: Map<string, { handler: KeyHandler; active: boolean }>;
}

const KeyboardContext = createContext<Registry | null>(null);

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** One typed character as Ink describes a key press. */
function keyOf(char: string): [string, Key] {
  if (char === '\r' || char === '\n') return ['', { ...NO_KEY, return: true }];
  if (char === '\t') return ['', { ...NO_KEY, tab: true }];
  if (char === '\u007f' || char === '\b') return ['', { ...NO_KEY, backspace: true }];
  const code = char.charCodeAt(0);
  if (code < 0x20) return [String.fromCharCode(code + 0x60), { ...NO_KEY, ctrl: true }];
  return [char, { ...NO_KEY, shift: char !== char.toLowerCase() }];
}

/**
 * The one subscription to the keyboard. Components register their handlers with useKeys
 * while they render, so a prompt that has just opened gets the very next key (Ink's useInput
 * subscribes only once React has run the render's effects, and a key that comes sooner is
 * lost or meets the previous state). Plain characters that arrive together (keys typed
 * faster than they are read, `tmux send-keys j Enter`) are handed over one at a time, with a
 * render between them, as if typed one by one.
 */
export function KeyboardProvider({ children }: { children: ReactNode }) {
  const [registry] = useState<Registry>(() => ({ handlers: new Map() }));
  const dispatch = (input: string, key: Key) => {
    for (const { handler, active } of [...registry.handlers.values()]) if (active) handler(input, key);
  };
  useInput((input, key) => {
    const chars = [...input];
    if (chars.length <= 1 || key.ctrl || key.meta) {
      dispatch(input, key);
      return;
    }
    const next = (index: number) => {
      dispatch(...keyOf(chars[index] as string));
      if (index + 1 < chars.length) setImmediate(() => next(index + 1));
    };
    next(0);
  });
  return <KeyboardContext.Provider value={registry}>{children}</KeyboardContext.Provider>;
}

/** Handles keys while `isActive`; the handler of the latest render answers. */
export function useKeys(handler: KeyHandler, options: { isActive: boolean }): void {
  const registry = useContext(KeyboardContext);
  if (!registry) throw new Error('useKeys: outside KeyboardProvider');
  const id = useId();
  registry.handlers.set(id, { handler, active: options.isActive });
  useLayoutEffect(
    () => () => {
      registry.handlers.delete(id);
    },
    [registry, id],
  );
}
