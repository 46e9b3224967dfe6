import { type Key, useInput } from 'ink';
import { useCallback, useRef } from 'react';

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
 * useInput, one key at a time. Ink hands a run of plain characters that arrive together
 * (keys typed faster than it reads them, or `tmux send-keys j Enter`) over as one string,
 * as it would a paste; a list must see `j` and then Enter.
 *
 * The handler of the latest render always answers: Ink subscribes a new handler only once
 * React has run the render's effects, and a key that comes before would see old state.
 */
export function useKeys(handler: (input: string, key: Key) => void, options: { isActive: boolean }): void {
  const latest = useRef(handler);
  latest.current = handler;
  const onInput = useCallback((input: string, key: Key) => {
    const chars = [...input];
    if (chars.length <= 1 || key.ctrl || key.meta) {
      latest.current(input, key);
      return;
    }
    for (const char of chars) latest.current(...keyOf(char));
  }, []);
  useInput(onInput, options);
}
