import { render } from 'ink-testing-library';
import { Inspector } from '../app.js';
import type { FirstFrame } from '../first-frame.js';
import type { ViewId } from '../inspector-context.js';
import type { InspectorData } from '../inspector-data.js';
import { T0 } from './fake-inspector-data.js';

/** Ink's names for keys, as a terminal sends them. */
export const KEYS = {
  up: '\u001b[A',
  down: '\u001b[B',
  left: '\u001b[D',
  right: '\u001b[C',
  pageUp: '\u001b[5~',
  pageDown: '\u001b[6~',
  home: '\u001b[H',
  end: '\u001b[F',
  enter: '\r',
  escape: '\u001b',
  tab: '\t',
  shiftTab: '\u001b[Z',
  ctrlC: '\u0003',
  backspace: '\u007f',
} as const;

export interface RenderedInspector {
  /** The last frame drawn. */
  frame(): string;
  /** Every frame drawn so far, the first first. */
  frames(): string[];
  /** Types keys one at a time (each its own read, as a person types), letting Ink draw between them. */
  press(...keys: string[]): Promise<void>;
  /** Waits until the frame satisfies the test (the data is read asynchronously). */
  waitFor(test: (frame: string) => boolean, what?: string): Promise<string>;
  resize(columns: number, rows: number): void;
  /** True once the app has exited (q, Ctrl-C): it stopped reading the keyboard. */
  exited(): boolean;
  unmount(): void;
}

/** Renders the inspector on fake streams (ink-testing-library), at `columns` x `rows`. */
export async function renderInspector(
  data: InspectorData,
  options: { readonly?: boolean; view?: ViewId; columns?: number; rows?: number; first?: FirstFrame } = {},
): Promise<RenderedInspector> {
  const instance = render(
    <Inspector
      data={data}
      readonly={options.readonly ?? false}
      colors={false}
      now={() => T0 + 3_600_000}
      initialView={options.first?.view ?? options.view ?? 'events'}
      first={options.first}
    />,
  );
  const stdout = instance.stdout as unknown as { columns: number; rows: number; emit(name: string): void };
  const resize = (columns: number, rows: number) => {
    Object.defineProperty(stdout, 'columns', { value: columns, configurable: true });
    Object.defineProperty(stdout, 'rows', { value: rows, configurable: true });
    stdout.emit('resize');
  };
  resize(options.columns ?? 100, options.rows ?? 24);
  const frame = () => instance.lastFrame() ?? '';
  const tick = () => new Promise((resolve) => setTimeout(resolve, 15));
  await tick();
  return {
    frame,
    frames: () => [...instance.frames],
    async press(...keys) {
      for (const key of keys) {
        instance.stdin.write(key);
        await tick();
      }
    },
    async waitFor(test, what = 'the expected frame') {
      const deadline = Date.now() + 3000;
      for (;;) {
        const current = frame();
        if (test(current)) return current;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the last frame:\n${current}`);
        await tick();
      }
    },
    resize,
    exited: () => instance.stdin.listenerCount('readable') === 0,
    unmount: () => instance.unmount(),
  };
}

/** The frame's line holding `text`, or undefined. */
export function lineWith(frame: string, text: string): string | undefined {
  return frame.split('\n').find((line) => line.includes(text));
}
