import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour only on a TTY; NO_COLOR turns it off and FORCE_COLOR on (https://no-color.org),
 * `--no-color` wins over both.
 */
export function createColors(options: {
  isTTY: boolean | undefined;
  env: Record<string, string | undefined>;
  noColorFlag: boolean;
}): ChalkInstance {
  const { env } = options;
  let enabled = options.isTTY === true && env.TERM !== 'dumb';
  if (env.FORCE_COLOR !== undefined) enabled = env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') enabled = false;
  if (options.noColorFlag) enabled = false;
  return new Chalk({ level: enabled ? 1 : 0 });
}
