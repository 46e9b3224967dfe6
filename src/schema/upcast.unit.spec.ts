import { describe, expect, it } from 'vitest';
import { EvlogError } from '../errors.js';
import type { EventRecord } from '../store/types.js';
import { createRecordUpcaster, type Upcasters, upcastTarget } from './upcast.js';

function record(overrides: Partial<EventRecord>): EventRecord {
  return {
    position: 7,
    id: 'id-7',
    topic: 'orders',
    key: 'order-1',
    version: 1,
    type: 'OrderPlaced',
    schemaVersion: 1,
    time: 0,
    dataJson: '{"total":12.5}',
    metadataJson: '{}',
    ...overrides,
  };
}

const upcasters: Upcasters = {
  OrderPlaced: {
    1: (data: { total: number }) => ({ ...data, currency: 'EUR' }),
    3: (data: { total: number; currency: string }) => ({ amount: { value: data.total, currency: data.currency } }),
  },
};

describe('upcasting records', () => {
  const latest = new Map([['OrderPlaced', 4]]);
  const upcast = createRecordUpcaster(upcasters, latest, 'evlog.config.mjs');

  it('runs every step to the latest version; a version without an upcaster passes through', () => {
    const out = upcast(record({}));
    expect(JSON.parse(out.dataJson)).toEqual({ amount: { value: 12.5, currency: 'EUR' } });
    expect(out.schemaVersion).toBe(4);
  });

  it('starts at the stored version, and reads an event without one as version 1', () => {
    expect(JSON.parse(upcast(record({ schemaVersion: 3, dataJson: '{"total":1,"currency":"USD"}' })).dataJson)).toEqual(
      {
        amount: { value: 1, currency: 'USD' },
      },
    );
    expect(upcast(record({ schemaVersion: null })).schemaVersion).toBe(4);
  });

  it('returns the very record for types without upcasters and events at the latest version', () => {
    const other = record({ type: 'PaymentFailed' });
    expect(upcast(other)).toBe(other);
    const current = record({ schemaVersion: 4 });
    expect(upcast(current)).toBe(current);
  });

  it('never changes the record it was given', () => {
    const original = record({});
    upcast(original);
    expect(original.dataJson).toBe('{"total":12.5}');
    expect(original.schemaVersion).toBe(1);
  });

  it('names the upcaster and the position when an upcaster throws', () => {
    const failing = createRecordUpcaster(
      {
        OrderPlaced: {
          1: () => {
            throw new Error('no total');
          },
        },
      },
      latest,
      'evlog.config.mjs',
    );
    const error = (() => {
      try {
        failing(record({ position: 42 }));
      } catch (e) {
        return e;
      }
    })() as EvlogError;
    expect(error).toBeInstanceOf(EvlogError);
    expect(error.code).toBe('failure');
    expect(error.message).toBe(
      'the upcaster OrderPlaced 1→2 (in evlog.config.mjs) threw on the event at position 42: no total',
    );
  });

  it('refuses an upcaster that returns nothing', () => {
    const broken = createRecordUpcaster({ OrderPlaced: { 1: () => undefined } }, latest);
    expect(() => broken(record({}))).toThrow(
      'the upcaster OrderPlaced 1→2 returned nothing for the event at position 7',
    );
  });

  it('targets the latest registered version, and nothing for a type without schemas', () => {
    expect(upcastTarget('OrderPlaced', upcasters, latest)).toBe(4);
    // Without registered versions there is nothing to upcast to, whatever the config declares.
    expect(upcastTarget('OrderPlaced', upcasters, new Map())).toBeUndefined();
    expect(upcastTarget('Nope', upcasters, new Map())).toBeUndefined();
  });
});
