import { describe, expect, it } from 'vitest';
import { parseDuration, parseFrom, parseUntil } from './parse-range.js';

const now = Date.UTC(2026, 10, 22, 12, 0, 0);

describe('--from', () => {
  it.each([
    ['beginning', { kind: 'position', position: 1 }],
    ['1500', { kind: 'position', position: 1500 }],
    ['2026-11-22T09:00:00Z', { kind: 'time', time: Date.UTC(2026, 10, 22, 9) }],
    ['2026-11-22T09:00:00.250+01:00', { kind: 'time', time: Date.UTC(2026, 10, 22, 8, 0, 0, 250) }],
    ['2026-11-22', { kind: 'time', time: Date.UTC(2026, 10, 22) }],
    ['15m', { kind: 'time', time: now - 15 * 60_000 }],
    ['2h ago', { kind: 'time', time: now - 2 * 3_600_000 }],
    ['500ms', { kind: 'time', time: now - 500 }],
  ])('reads %s', (text, expected) => {
    expect(parseFrom(text, now)).toEqual(expected);
  });

  it.each(['yesterday', '2026-13-45', '-5m', ''])('refuses %j as a usage error', (text) => {
    expect(() => parseFrom(text, now)).toThrow(expect.objectContaining({ code: 'usage' }));
  });
});

describe('--until', () => {
  it('reads a position or a time, but not a duration', () => {
    expect(parseUntil('7')).toEqual({ kind: 'position', position: 7 });
    expect(parseUntil('2026-11-22T09:00:00Z')).toEqual({ kind: 'time', time: Date.UTC(2026, 10, 22, 9) });
    expect(() => parseUntil('15m')).toThrow('neither a position nor an ISO-8601 time');
  });
});

describe('durations', () => {
  it('reads units and refuses bare numbers', () => {
    expect(parseDuration('30s', '--idle')).toBe(30_000);
    expect(() => parseDuration('30', '--idle')).toThrow('--idle: "30" is not a duration');
  });
});
