import type { Readable, Writable } from 'node:stream';
import { render } from 'ink';
import { createColors } from '../output/color.js';
import { Inspector } from './app.js';
import type { InspectorData } from './inspector-data.js';

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
  // It opens on the dead letters when anything is parked: that is what needs a person.
  const parked = data.deadLetters ? await data.deadLetters.count({ status: 'parked' }).catch(() => 0) : 0;
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
        initialView={parked > 0 ? 'dead-letters' : 'events'}
      />,
      {
        stdin: options.stdin as NodeJS.ReadStream,
        stdout: stdout as NodeJS.WriteStream,
        exitOnCtrlC: false,
        patchConsole: false,
        maxFps: 60,
      },
    );
    await instance.waitUntilExit();
  } finally {
    restore();
    process.off('exit', restore);
  }
}
