import { type Key, useInput } from 'ink';
import { createContext, type ReactNode, useContext, useId, useLayoutEffect, useState } from 'react';

type KeyHandler = (input: string, key: Key) => void;

interface Registry {
  handlers: Map<string, { handler: KeyHandler; active: boolean }>;
  /** Grows with every render of a component that handles keys. */
  renders: number;
}

/** How long a key of a run waits for the render the key before it caused (most keys cause none). */
const RENDER_WAIT_MS = 20;

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
  const [registry] = useState<Registry>(() => ({ handlers: new Map(), renders: 0 }));
  const [queue] = useState<{ keys: [string, Key][]; pumping: boolean }>(() => ({ keys: [], pumping: false }));
  const dispatch = (input: string, key: Key) => {
    for (const { handler, active } of [...registry.handlers.values()]) if (active) handler(input, key);
  };
  // Keys are handled in the order they came, each after the render the one before caused
  // (a prompt opening, say), however they were read.
  const pump = () => {
    const next = queue.keys.shift();
    if (!next) {
      queue.pumping = false;
      return;
    }
    queue.pumping = true;
    const renders = registry.renders;
    dispatch(...next);
    if (queue.keys.length === 0) {
      queue.pumping = false;
      return;
    }
    const deadline = Date.now() + RENDER_WAIT_MS;
    const wait = () => {
      if (registry.renders !== renders || Date.now() > deadline) pump();
      else setImmediate(wait);
    };
    setImmediate(wait);
  };
  useInput((input, key) => {
    const chars = [...input];
    if (chars.length <= 1 || key.ctrl || key.meta) queue.keys.push([input, key]);
    else for (const char of chars) queue.keys.push(keyOf(char));
    if (!queue.pumping) pump();
  });
  return <KeyboardContext.Provider value={registry}>{children}</KeyboardContext.Provider>;
}

/** Handles keys while `isActive`; the handler of the latest render answers. */
export function useKeys(handler: KeyHandler, options: { isActive: boolean }): void {
  const registry = useContext(KeyboardContext);
  if (!registry) throw new Error('useKeys: outside KeyboardProvider');
  const id = useId();
  registry.handlers.set(id, { handler, active: options.isActive });
  registry.renders++;
  useLayoutEffect(
    () => () => {
      registry.handlers.delete(id);
    },
    [registry, id],
  );
}
