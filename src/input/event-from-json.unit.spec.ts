import { describe, expect, it } from 'vitest';
import { eventFromJson } from './event-from-json.js';

describe('an input line as an event', () => {
  it('reads the append shape, with the command’s topic as default', () => {
    expect(
      eventFromJson({ type: 'A', data: { x: 1 }, key: 'k', expect: 'none' }, { topic: 'orders' }, false),
    ).toMatchObject({
      topic: 'orders',
      key: 'k',
      type: 'A',
      data: { x: 1 },
      expect: 'none',
    });
  });

  it('accepts the tail --json envelope, keeping the id and ignoring position and version', () => {
    const envelope = {
      position: 9,
      id: 'e-9',
      topic: 'orders',
      key: null,
      version: 4,
      type: 'A',
      schemaVersion: null,
      time: '2026-11-22T09:00:00.000Z',
      data: {},
      metadata: {},
    };
    const event = eventFromJson(envelope, {}, false);
    expect(event).toMatchObject({ id: 'e-9', topic: 'orders', key: null, time: undefined });
    expect(event).not.toHaveProperty('position');
    expect(eventFromJson(envelope, {}, true).time).toBe(Date.UTC(2026, 10, 22, 9));
  });

  it('reads CloudEvents, with evlog’s extension attributes or without', () => {
    const own = {
      specversion: '1.0',
      id: 'e-1',
      source: 'web',
      type: 'A',
      subject: 'k',
      time: '2026-11-22T09:00:00Z',
      data: { x: 1 },
      evlogtopic: 'orders',
      evlogmetadata: '{"source":"web","correlationId":"c"}',
    };
    expect(eventFromJson(own, {}, true)).toMatchObject({
      topic: 'orders',
      key: 'k',
      id: 'e-1',
      metadata: { source: 'web', correlationId: 'c' },
      time: Date.UTC(2026, 10, 22, 9),
    });
    const foreign = { specversion: '1.0', id: 'x', source: '/shop', type: 'A', data: 1 };
    expect(eventFromJson(foreign, { topic: 'in' }, false)).toMatchObject({
      topic: 'in',
      key: null,
      metadata: { source: '/shop' },
    });
  });

  it.each([
    [[1, 2], 'expected a JSON object'],
    [{ type: 'A' }, 'missing "data"'],
    [{ type: 'A', data: 1, typo: true }, 'unknown field "typo"'],
    [{ type: 'A', data: 1 }, 'no "topic"'],
    [{ specversion: '0.3', type: 'A', id: 'x', source: 's' }, 'unsupported CloudEvents specversion'],
  ])('refuses %j', (value, message) => {
    expect(() => eventFromJson(value, {}, false)).toThrow(message);
  });
});
