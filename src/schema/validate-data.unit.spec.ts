import { describe, expect, it } from 'vitest';
import { EvlogError } from '../errors.js';
import { compileSchema, findViolations, formatViolation } from './validate-data.js';

const order = {
  type: 'object',
  properties: {
    total: { type: 'number', minimum: 0 },
    currency: { enum: ['EUR', 'USD'] },
    customer: { type: 'object', properties: { email: { type: 'string', format: 'email' } } },
    lines: { type: 'array', items: { type: 'object', properties: { qty: { type: 'integer' } } } },
  },
  required: ['total'],
  additionalProperties: false,
};

describe('validating data', () => {
  it('lists every violation with its JSON path, rule and offending value', () => {
    const validate = compileSchema(order, 'OrderPlaced v1');
    const lines = findViolations(validate, {
      currency: 'CHF',
      customer: { email: 'not-an-email' },
      lines: [{ qty: 1 }, { qty: 1.5 }],
      coupon: 'X',
    }).map(formatViolation);
    expect(lines.sort()).toEqual(
      [
        '$.total: is required (required)',
        '$.coupon: is not allowed (no additional properties) (additionalProperties), got "X"',
        '$.currency: must be equal to one of the allowed values (enum), got "CHF"',
        '$.customer.email: must match format "email" (format), got "not-an-email"',
        '$.lines[1].qty: must be integer (type), got 1.5',
      ].sort(),
    );
  });

  it('accepts valid data', () => {
    expect(findViolations(compileSchema(order, 'x'), { total: 1, lines: [] })).toEqual([]);
  });

  it('reads draft-07 schemas by their $schema', () => {
    const validate = compileSchema(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        definitions: { n: { type: 'number' } },
        properties: { a: { $ref: '#/definitions/n' } },
      },
      'draft-07',
    );
    expect(findViolations(validate, { a: 'x' }).map(formatViolation)).toEqual(['$.a: must be number (type), got "x"']);
  });

  it('refuses a document that is not a valid JSON Schema, naming it', () => {
    expect(() => compileSchema({ type: 'strnig' }, 'OrderPlaced v2')).toThrow(
      /^OrderPlaced v2 is not a valid JSON Schema/,
    );
    expect(() => compileSchema({ $schema: 'http://json-schema.org/draft-04/schema#' }, 'x')).toThrow(EvlogError);
  });

  it('compiles two versions with the same $id', () => {
    compileSchema({ $id: 'urn:order', type: 'object' }, 'v1');
    expect(() => compileSchema({ $id: 'urn:order', type: 'array' }, 'v2')).not.toThrow();
  });
});
