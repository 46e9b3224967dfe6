import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import type { EventRecord } from '../store/index.js';
import { createEventFormatter, createTemplateFormatter, formatCloudEvent, formatEventJson } from './format-event.js';

const record: EventRecord = {
  position: 42,
  id: '01a202c6-5963-76cf-8c52-68c9539d4ab8',
  topic: 'orders',
  key: 'order-17',
  version: 3,
  type: 'OrderPlaced',
  schemaVersion: 1,
  time: Date.UTC(2026, 10, 22, 9, 0, 0, 123),
  dataJson: '{"total":12.5,"customer":{"id":42,"name":"Ana \\"A\\""}}',
  metadataJson: '{"correlationId":"c-1","source":"checkout"}',
};
const plain = new Chalk({ level: 0 });

describe('the JSON envelope', () => {
  it('has exactly the fields of the contract, in order, and parses back', () => {
    const line = formatEventJson(record);
    expect(line).toBe(
      '{"position":42,"id":"01a202c6-5963-76cf-8c52-68c9539d4ab8","topic":"orders","key":"order-17","version":3,"type":"OrderPlaced","schemaVersion":1,"time":"2026-11-22T09:00:00.123Z","data":{"total":12.5,"customer":{"id":42,"name":"Ana \\"A\\""}},"metadata":{"correlationId":"c-1","source":"checkout"}}',
    );
    expect(JSON.parse(line).data.customer.name).toBe('Ana "A"');
  });

  it('writes null key and schema version, and {} metadata', () => {
    const parsed = JSON.parse(formatEventJson({ ...record, key: null, schemaVersion: null, metadataJson: '{}' }));
    expect(parsed).toMatchObject({ key: null, schemaVersion: null, metadata: {} });
  });
});

describe('CloudEvents', () => {
  it('maps the envelope to CloudEvents 1.0 with evlog extension attributes', () => {
    expect(JSON.parse(formatCloudEvent(record))).toEqual({
      specversion: '1.0',
      id: record.id,
      source: 'checkout',
      type: 'OrderPlaced',
      subject: 'order-17',
      time: '2026-11-22T09:00:00.123Z',
      datacontenttype: 'application/json',
      data: { total: 12.5, customer: { id: 42, name: 'Ana "A"' } },
      evlogtopic: 'orders',
      evlogposition: 42,
      evlogversion: 3,
      evlogschemaversion: 1,
      evlogmetadata: '{"correlationId":"c-1","source":"checkout"}',
    });
  });

  it('names evlog as the source when the metadata has none', () => {
    const event = JSON.parse(formatCloudEvent({ ...record, metadataJson: '{}', key: null }));
    expect(event.source).toBe('evlog:/orders');
    expect(event).not.toHaveProperty('subject');
    expect(event).not.toHaveProperty('evlogmetadata');
  });
});

describe('templates', () => {
  it('fills envelope fields and data paths', () => {
    const format = createTemplateFormatter('{position} {stream} {type} {data.total} {data.customer} {metadata.source}');
    expect(format(record)).toBe('42 orders/order-17 OrderPlaced 12.5 {"id":42,"name":"Ana \\"A\\""} checkout');
  });

  it('prints a missing value as nothing, and expands \\t', () => {
    expect(createTemplateFormatter('{data.nope}\\t{key}')(record)).toBe('\torder-17');
  });

  it('refuses an unknown field, naming it', () => {
    expect(() => createTemplateFormatter('{positon}')).toThrow('unknown field "{positon}" in the output template');
  });
});

describe('choosing a format', () => {
  it('prints pretty lines without colour when colour is off', () => {
    const line = createEventFormatter('pretty', plain)(record);
    expect(line).toBe(
      '#42 2026-11-22T09:00:00.123Z orders/order-17@3 OrderPlaced {"total":12.5,"customer":{"id":42,"name":"Ana \\"A\\""}} {"correlationId":"c-1","source":"checkout"}',
    );
  });

  it('refuses an unknown format with the list of formats', () => {
    expect(() => createEventFormatter('yaml', plain)).toThrow('unknown output format "yaml"');
  });
});

describe('times', () => {
  it('are written exactly as Date#toISOString writes them', async () => {
    const { isoTime } = await import('./format-event.js');
    for (const ms of [
      0, 1, 10, 99, 100, 999, 1000, 1_795_342_310_087, 1_795_342_310_087, 1_795_342_311_005, -1, 253_402_300_799_999,
    ]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
