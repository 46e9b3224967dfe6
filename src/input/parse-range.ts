import ms from 'ms';
import { EvlogError } from '../errors.js';

/** Where a read starts or ends: a position, or a recorded time to turn into one. */
export type RangeBound = { kind: 'position'; position: number } | { kind: 'time'; time: number };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

/** A duration such as 15m, 2h, 1d, 500ms (optionally followed by "ago"), in ms. */
export function parseDuration(text: string, flag: string): number {
  let value: number | undefined;
  try {
    value = ms(text.replace(/\s*ago$/, '') as ms.StringValue);
  } catch {
    // ms throws on empty or overlong input; reported below like any other bad duration.
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || /^\d+$/.test(text)) {
    throw new EvlogError('usage', `${flag}: "${text}" is not a duration`, {
      hint: 'write a duration like 500ms, 30s, 15m, 2h or 1d',
    });
  }
  return value;
}

/** A point in time: an ISO-8601 time, or a duration ago (15m, 2h). For --since and --until. */
export function parseTimeOrAgo(text: string, flag: string, now: number): number {
  if (ISO_DATE.test(text)) {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) return time;
  }
  try {
    return now - parseDuration(text, flag);
  } catch {
    throw new EvlogError('usage', `${flag}: "${text}" is neither an ISO-8601 time nor a duration`, {
      hint: `e.g. ${flag} 2026-11-22T09:00:00Z or ${flag} 2h`,
    });
  }
}

/** `--from`: beginning | <position> | <ISO-8601 time> | <duration> ago (e.g. 15m). */
export function parseFrom(text: string, now: number): RangeBound {
  if (text === 'beginning') return { kind: 'position', position: 1 };
  const bound = parseBound(text, '--from');
  if (bound) return bound;
  try {
    return { kind: 'time', time: now - parseDuration(text, '--from') };
  } catch {
    throw new EvlogError('usage', `--from: "${text}" is not a start`, {
      hint: 'use beginning, a position (1500), an ISO-8601 time (2026-11-22T09:00:00Z) or a duration ago (15m, 2h, 1d)',
    });
  }
}

/** `--until`: <position> | <ISO-8601 time>, inclusive. */
export function parseUntil(text: string): RangeBound {
  const bound = parseBound(text, '--until');
  if (bound) return bound;
  throw new EvlogError('usage', `--until: "${text}" is neither a position nor an ISO-8601 time`, {
    hint: 'e.g. --until 1500 or --until 2026-11-22T09:00:00Z',
  });
}

function parseBound(text: string, flag: string): RangeBound | undefined {
  if (/^\d+$/.test(text)) {
    const position = Number(text);
    if (!Number.isSafeInteger(position)) throw new EvlogError('usage', `${flag}: position ${text} is too large`);
    return { kind: 'position', position };
  }
  if (ISO_DATE.test(text)) {
    const time = Date.parse(text);
    if (Number.isNaN(time)) throw new EvlogError('usage', `${flag}: "${text}" is not a valid time`);
    return { kind: 'time', time };
  }
  return undefined;
}
