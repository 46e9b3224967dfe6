import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { diffStates, formatDifference } from './diff-states.js';

describe('diffStates', () => {
  it('finds nothing in equal documents, whatever their key order', () => {
    expect(diffStates({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it('names each differing path with both values, in sorted order', () => {
    const lines = diffStates(
      { 'cust-1': { total: 10, orders: 1 }, 'cust 2': { total: 5 }, list: [1, 2] },
      { 'cust-1': { total: 12.5, orders: 1 }, list: [1, 3, 4], extra: true },
    ).map(formatDifference);
    expect(lines).toEqual([
      '["cust 2"]: expected {"total":5}, got (absent)',
      'cust-1.total: expected 10, got 12.5',
      'extra: expected (absent), got true',
      'list[1]: expected 2, got 3',
      'list[2]: expected (absent), got 4',
    ]);
  });

  it('compares a whole single state', () => {
    expect(diffStates(1, 2).map(formatDifference)).toEqual(['(the whole state): expected 1, got 2']);
    expect(diffStates({ a: 1 }, [1])).toHaveLength(1);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], u: undefined })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it('prints the same text for the same state built in a different order', () => {
    expect(canonicalJson({ x: 1, y: { b: 2, a: 1 } }, 2)).toBe(canonicalJson({ y: { a: 1, b: 2 }, x: 1 }, 2));
  });
});

describe('canonicalJson without indentation', () => {
  it('matches JSON.stringify of the sorted copy, for what JSON.stringify leaves out too', () => {
    const value = { z: [3, undefined, { y: 1, x: () => 1 }], a: { c: null, b: 'é"\n' }, u: undefined, d: new Date(0) };
    expect(canonicalJson(value)).toBe(
      '{"a":{"b":"é\\"\\n","c":null},"d":"1970-01-01T00:00:00.000Z","z":[3,null,{"y":1}]}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });
});
