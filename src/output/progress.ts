import type { Writable } from 'node:stream';

export interface Progress {
  update(done: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

/**
 * A progress bar on stderr, only when stderr is a terminal and the work is large; never
 * when piped. cli-progress is loaded only then.
 */
export async function startProgress(
  stream: Writable & { isTTY?: boolean },
  options: { total: number; label: string; unit: string; quiet?: boolean; minimum?: number },
): Promise<Progress> {
  if (!stream.isTTY || options.quiet || options.total < (options.minimum ?? 10_000)) return NO_PROGRESS;
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | {speed}/s | ETA {eta_formatted}`,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(options.total, 0, { speed: 0 });
  return {
    update(done) {
      const seconds = (Date.now() - started) / 1000;
      bar.update(Math.min(done, options.total), { speed: seconds > 0 ? Math.round(done / seconds) : 0 });
    },
    stop() {
      bar.stop();
    },
  };
}
