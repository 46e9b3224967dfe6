/**
 * Runs a program on a real terminal: a detached tmux session of a fixed size, keys sent with
 * send-keys, the screen read with capture-pane, as a person would see it.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export interface TmuxSession {
  name: string;
  /** Sends keys (tmux names: Enter, Escape, Up, Down, PgUp, C-c, or text), one send-keys each. */
  keys(...keys: string[]): Promise<void>;
  /** The screen as text (with its colours and styles as escape codes when `escapes`). */
  screen(escapes?: boolean): string;
  /** Waits until the screen satisfies the test; fails with the screen it saw. */
  waitFor(test: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  kill(): void;
  /** The process ids of the command the session runs (the shell's children, and theirs). */
  processes(): number[];
}

/** A server of its own (-L), apart from any tmux the developer runs. */
const SOCKET = 'evlog-tests';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

/** True when tmux is installed (the tests that need it fail with a clear message otherwise). */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function retry(work: () => void): void {
  for (let attempt = 1; ; attempt++) {
    try {
      work();
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      execFileSync('sleep', ['0.2']);
    }
  }
}

/**
 * Starts `command` (a shell command line) in a new detached session of `columns` x `rows`.
 * When the command ends, the shell prints `[exited N]` and waits, so the screen can be read.
 */
export function startTmux(
  command: string,
  options: { columns?: number; rows?: number; cwd?: string } = {},
): TmuxSession {
  const name = `evlog-${randomUUID().slice(0, 8)}`;
  // The server quits with its last session; one starting meanwhile is refused: try again.
  retry(() =>
    tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      String(options.columns ?? 100),
      '-y',
      String(options.rows ?? 30),
      ...(options.cwd ? ['-c', options.cwd] : []),
      `${command}; echo "[exited $?]"; sleep 600`,
    ),
  );
  const screen = (escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', name);
  return {
    name,
    async keys(...keys) {
      for (const key of keys) {
        tmux('send-keys', '-t', name, key);
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    },
    screen,
    async waitFor(test, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = screen();
        if (test(current)) return current;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${current}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    processes() {
      const shell = Number(tmux('display-message', '-p', '-t', name, '#{pane_pid}').trim());
      const found: number[] = [];
      const visit = (pid: number) => {
        for (const task of readdirSync(`/proc/${pid}/task`)) {
          const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
          for (const child of children ? children.split(/\s+/).map(Number) : []) {
            found.push(child);
            visit(child);
          }
        }
      };
      visit(shell);
      return found;
    },
    kill() {
      try {
        tmux('kill-session', '-t', name);
      } catch {
        // Already gone.
      }
    },
  };
}
