import { Text } from 'ink';
import { useRef, useState } from 'react';
import { clip } from './format.js';
import { useKeys } from './keyboard.js';

export interface TextPromptProps {
  label: string;
  /** The text the prompt starts with (e.g. the filter in force). */
  initial: string;
  width: number;
  onSubmit(value: string): void;
  onCancel(): void;
  /** Only the active view's prompt reads keys. */
  active: boolean;
}

/** One line of typed text: Enter submits, Esc cancels, Backspace deletes, Ctrl-U clears. */
export function TextPrompt({ label, initial, width, onSubmit, onCancel, active }: TextPromptProps) {
  const [value, setValue] = useState(initial);
  // Keys that arrive together are handled before React renders again: keep the text here too.
  const text = useRef(initial);
  const update = (next: string) => {
    text.current = next;
    setValue(next);
  };
  useKeys(
    (input, key) => {
      if (key.return) onSubmit(text.current);
      else if (key.escape) onCancel();
      else if (key.backspace || key.delete) update(text.current.slice(0, -1));
      else if (key.ctrl && input === 'u') update('');
      else if (!key.ctrl && !key.meta && !key.tab && input) update(text.current + input);
    },
    { isActive: active },
  );
  const shown = `${label}${value}█`;
  return <Text>{clip(shown.length > width ? `…${shown.slice(shown.length - width + 1)}` : shown, width)}</Text>;
}
