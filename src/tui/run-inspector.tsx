// First: it hides fetch while Ink's layout engine loads (see there).

import type { Readable, Writable } from 'node:stream';
import { render } from 'ink';
import { createColors } from '../output/color.js';
import { Inspector } from './app.js';
import { prepareFirstFrame } from './first-frame.js';
import type { InspectorData } from './inspector-data.js';
import { restoreFetch } from './yoga-without-fetch.js';

restoreFetch();

export interface RunInspectorOptions {
  stdin: Readable;
  stdout: Writable;
  env: Record<string, string | undefined>;
  readonly: boolean;
  noColorFlag: boolean;
  now: () => number;
}

// The alternate screen (as less, vim and k9s use): what was on the terminal comes back on exit.
const ENTER_SCREEN = '\u001b[?1049h\u001b[H';
const LEAVE_SCREEN = '\u001b[?25h\u001b[?1049l';

/**
 * Runs the inspector on a terminal until q or Ctrl-C, then leaves the terminal as it was:
 * the alternate screen left, the cursor shown, raw mode off (Ink restores it on unmount).
 */
export async function runInspector(data: InspectorData, options: RunInspectorOptions): Promise<void> {
  const { stdout } = options;
  const colors = createColors({ isTTY: true, env: options.env, noColorFlag: options.noColorFlag }).level > 0;
  // Read before anything is drawn, so the first frame is a whole one.
  const first = await prepareFirstFrame(data, (stdout as { rows?: number }).rows || 24);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdout.write(LEAVE_SCREEN);
  };
  // Whatever ends the process (a signal, an uncaught error), the screen comes back.
  process.once('exit', restore);
  stdout.write(ENTER_SCREEN);
  try {
    const instance = render(
      <Inspector
        data={data}
        readonly={options.readonly}
        colors={colors}
        now={options.now}
        initialView={first.view}
        first={first}
      />,
      {
        stdin: options.stdin as NodeJS.ReadStream,
        stdout: stdout as NodeJS.WriteStream,
        exitOnCtrlC: false,
        patchConsole: false,
        maxFps: 60,
      },
    );
    // Asked to end (kill, a closed terminal): as q does, so the screen comes back.
    const end = () => instance.unmount();
    process.once('SIGTERM', end);
    process.once('SIGHUP', end);
    try {
      await instance.waitUntilExit();
    } finally {
      process.off('SIGTERM', end);
      process.off('SIGHUP', end);
    }
  } finally {
    restore();
    process.off('exit', restore);
  }
}
