import type { Key } from 'ink';
import { Text } from 'ink';
import { useRef, useState } from 'react';
import { clip } from './format.js';
import { useInspector, type ViewId } from './inspector-context.js';

/** A prompt in progress: what it asks and the text typed so far. */
interface OpenPrompt<Kind extends string> {
  kind: Kind;
  label: string;
  text: string;
  onSubmit(text: string): void;
}

export interface PromptController<Kind extends string> {
  /** The open prompt, or null. Read it in key handlers: it is current even between renders. */
  current(): OpenPrompt<Kind> | null;
  open(kind: Kind, label: string, initial: string, onSubmit: (text: string) => void): void;
  close(): void;
  /** Takes the key when a prompt is open: Enter submits, Esc cancels, Backspace deletes, Ctrl-U clears. */
  handle(input: string, key: Key): boolean;
}

/**
 * A one-line prompt of a view (a filter, a position to go to). Its state lives outside React
 * as well, so keys that arrive together with the one that opened it (`/type:Order⏎` pasted, or
 * typed faster than a render) go into it, not to the list behind it.
 */
export function usePrompt<Kind extends string>(view: ViewId): PromptController<Kind> {
  const { captures } = useInspector();
  const [, setVersion] = useState(0);
  const state = useRef<OpenPrompt<Kind> | null>(null);
  const [controller] = useState<PromptController<Kind>>(() => {
    const changed = () => setVersion((n) => n + 1);
    return {
      current: () => state.current,
      open(kind, label, initial, onSubmit) {
        state.current = { kind, label, text: initial, onSubmit };
        captures[view] = true;
        changed();
      },
      close() {
        state.current = null;
        captures[view] = false;
        changed();
      },
      handle(input, key) {
        const prompt = state.current;
        if (!prompt) return false;
        if (key.return) {
          controller.close();
          prompt.onSubmit(prompt.text);
        } else if (key.escape) controller.close();
        else if (key.backspace || key.delete) prompt.text = prompt.text.slice(0, -1);
        else if (key.ctrl && input === 'u') prompt.text = '';
        else if (!key.ctrl && !key.meta && !key.tab && input) prompt.text += input;
        changed();
        return true;
      },
    };
  });
  return controller;
}

/** The prompt's line: its question, the text and a block cursor, the end kept in view. */
export function PromptLine({ label, text, width }: { label: string; text: string; width: number }) {
  const shown = `${label}${text}█`;
  return <Text>{clip(shown.length > width ? `…${shown.slice(shown.length - width + 1)}` : shown, width)}</Text>;
}
