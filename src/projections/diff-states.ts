import { canonicalJson } from './canonical-json.js';

/** One place where two JSON documents differ: the path, and the value on each side (undefined: absent). */
export interface StateDifference {
  path: string;
  expected: unknown;
  actual: unknown;
}

/**
 * Every path where `actual` differs from `expected`, in a stable order (keys sorted). Objects
 * are compared key by key, arrays index by index; anything else by JSON value.
 *
 * @example diffStates({ a: 1, b: [1] }, { a: 2, b: [1, 2] }) // a: 1 → 2, b[1]: absent → 2
 */
export function diffStates(expected: unknown, actual: unknown, path = ''): StateDifference[] {
  if (isObject(expected) && isObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    return keys.flatMap((key) => diffStates(expected[key], actual[key], joinPath(path, key)));
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const length = Math.max(expected.length, actual.length);
    const differences: StateDifference[] = [];
    for (let i = 0; i < length; i++) differences.push(...diffStates(expected[i], actual[i], `${path}[${i}]`));
    return differences;
  }
  if (JSON.stringify(expected) === JSON.stringify(actual)) return [];
  return [{ path: path === '' ? '(the whole state)' : path, expected, actual }];
}

/** One line per difference: `cust-001.total: expected 33.25, got 40.7`. */
export function formatDifference(difference: StateDifference): string {
  return `${difference.path}: expected ${describe(difference.expected)}, got ${describe(difference.actual)}`;
}

function describe(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = canonicalJson(value);
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function joinPath(path: string, key: string): string {
  const step = /^[A-Za-z_$][\w$-]*$/.test(key) ? key : JSON.stringify(key);
  if (path === '') return step.startsWith('"') ? `[${step}]` : step;
  return step.startsWith('"') ? `${path}[${step}]` : `${path}.${step}`;
}
