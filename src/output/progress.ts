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
  // A CommonJS package: its exports arrive as the default export when imported dynamically.
  const cliProgress = await import('cli-progress');
  const { SingleBar, Presets } = cliProgress.default ?? cliProgress;
  const bar = new SingleBar(
    {
      stream,
      format: `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | {speed} ${options.unit}/s | ETA {eta_formatted}`,
      formatValue: (value, _options, type) =>
        type === 'value' || type === 'total' ? formatAmount(value, options.unit) : String(value),
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  const started = Date.now();
  bar.start(options.total, 0, { speed: formatAmount(0, options.unit) });
  return {
    update(done) {
      const seconds = (Date.now() - started) / 1000;
      bar.update(Math.min(done, options.total), {
        speed: formatAmount(seconds > 0 ? Math.round(done / seconds) : 0, options.unit),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Bytes in MiB; counts with thousands separators. */
function formatAmount(value: number, unit: string): string {
  return unit === 'MiB' ? (value / 1024 / 1024).toFixed(1) : value.toLocaleString('en-US');
}
