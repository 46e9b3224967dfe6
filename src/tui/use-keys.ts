import { type Key, useInput } from 'ink';

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
 */
export function useKeys(handler: (input: string, key: Key) => void, options: { isActive: boolean }): void {
  useInput((input, key) => {
    const chars = [...input];
    if (chars.length <= 1 || key.ctrl || key.meta) {
      handler(input, key);
      return;
    }
    for (const char of chars) handler(...keyOf(char));
  }, options);
}
