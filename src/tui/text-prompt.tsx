import { Text, useInput } from 'ink';
import { clip } from './format.js';

export interface TextPromptProps {
  label: string;
  value: string;
  width: number;
  onChange(value: string): void;
  onSubmit(value: string): void;
  onCancel(): void;
  /** Only the active view's prompt reads keys. */
  active: boolean;
}

/** One line of typed text: Enter submits, Esc cancels, Backspace deletes, Ctrl-U clears. */
export function TextPrompt({ label, value, width, onChange, onSubmit, onCancel, active }: TextPromptProps) {
  useInput(
    (input, key) => {
      if (key.return) onSubmit(value);
      else if (key.escape) onCancel();
      else if (key.backspace || key.delete) onChange(value.slice(0, -1));
      else if (key.ctrl && input === 'u') onChange('');
      else if (!key.ctrl && !key.meta && !key.tab && !key.upArrow && !key.downArrow && input) {
        onChange(value + input.replace(/[\r\n]/g, ''));
      }
    },
    { isActive: active },
  );
  const shown = `${label}${value}█`;
  return <Text>{clip(shown.length > width ? `…${shown.slice(shown.length - width + 1)}` : shown, width)}</Text>;
}
