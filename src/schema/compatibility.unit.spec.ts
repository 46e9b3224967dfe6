import { describe, expect, it } from 'vitest';
import type { CompatibilityMode } from '../store/types.js';
import { checkCompatibility, type JsonSchema } from './compatibility.js';

const id = { type: 'string' };
const open = (properties: Record<string, JsonSchema>, required: string[] = ['id']) => ({
  type: 'object',
  properties: { id, ...properties },
  required,
});
const closed = (properties: Record<string, JsonSchema>, required: string[] = ['id']) => ({
  ...open(properties, required),
  additionalProperties: false,
});

/**
 * Each kind of change, with whether the new schema reads old data (backward) and whether the
 * old schema reads new data (forward), as the Confluent Schema Registry judges JSON Schema.
 */
const CHANGES: [string, JsonSchema, JsonSchema, boolean, boolean][] = [
  ['optional property added to an open model', open({}), open({ currency: { type: 'string' } }), false, true],
  ['optional property added to a closed model', closed({}), closed({ currency: { type: 'string' } }), true, false],
  [
    'required property added to a closed model',
    closed({}),
    closed({ c: { type: 'string' } }, ['id', 'c']),
    false,
    false,
  ],
  [
    'required property with a default added to a closed model',
    closed({}),
    closed({ c: { type: 'string', default: 'EUR' } }, ['id', 'c']),
    true,
    false,
  ],
  ['property with an empty schema added to an open model', open({}), open({ extra: {} }), true, true],
  ['optional property removed from an open model', open({ note: { type: 'string' } }), open({}), true, false],
  ['optional property removed from a closed model', closed({ note: { type: 'string' } }), closed({}), false, true],
  ['required property removed from an open model', open({ note: id }, ['id', 'note']), open({}), true, false],
  ['optional property made required', open({ note: id }), open({ note: id }, ['id', 'note']), false, true],
  ['required property made optional', open({ note: id }, ['id', 'note']), open({ note: id }), true, false],
  ['integer widened to number', open({ qty: { type: 'integer' } }), open({ qty: { type: 'number' } }), true, false],
  ['number narrowed to integer', open({ qty: { type: 'number' } }), open({ qty: { type: 'integer' } }), false, true],
  ['string changed to number', open({ qty: { type: 'string' } }), open({ qty: { type: 'number' } }), false, false],
  ['null added to the types', open({ n: { type: 'string' } }), open({ n: { type: ['string', 'null'] } }), true, false],
  ['enum value added', open({ c: { enum: ['EUR'] } }), open({ c: { enum: ['EUR', 'USD'] } }), true, false],
  ['enum value removed', open({ c: { enum: ['EUR', 'USD'] } }), open({ c: { enum: ['EUR'] } }), false, true],
  ['enum value replaced', open({ c: { enum: ['EUR', 'USD'] } }), open({ c: { enum: ['EUR', 'GBP'] } }), false, false],
  ['maxLength added', open({ s: id }), open({ s: { type: 'string', maxLength: 9 } }), false, true],
  [
    'maxLength raised',
    open({ s: { type: 'string', maxLength: 9 } }),
    open({ s: { type: 'string', maxLength: 20 } }),
    true,
    false,
  ],
  [
    'minLength raised',
    open({ s: { type: 'string', minLength: 1 } }),
    open({ s: { type: 'string', minLength: 3 } }),
    false,
    true,
  ],
  ['pattern added', open({ s: id }), open({ s: { type: 'string', pattern: '^o-' } }), false, true],
  ['format added', open({ s: id }), open({ s: { type: 'string', format: 'email' } }), false, true],
  ['minimum added', open({ n: { type: 'number' } }), open({ n: { type: 'number', minimum: 0 } }), false, true],
  [
    'maximum raised',
    open({ n: { type: 'number', maximum: 10 } }),
    open({ n: { type: 'number', maximum: 99 } }),
    true,
    false,
  ],
  ['content model closed', open({}), closed({}), false, true],
  ['content model opened', closed({}), open({}), true, false],
  [
    'additionalProperties restricted to a schema',
    open({}),
    { ...open({}), additionalProperties: { type: 'string' } },
    false,
    true,
  ],
  [
    'property added, covered by a partially open model',
    { ...open({}), additionalProperties: { type: 'string' } },
    { ...open({ note: { type: 'string' } }), additionalProperties: { type: 'string' } },
    true,
    true,
  ],
  [
    'property added, not covered by a partially open model',
    { ...open({}), additionalProperties: { type: 'string' } },
    { ...open({ note: { type: 'number' } }), additionalProperties: { type: 'string' } },
    false,
    false,
  ],
  [
    'nested optional property added to an open object',
    open({ customer: open({}) }),
    open({ customer: open({ email: { type: 'string' } }) }),
    false,
    true,
  ],
  [
    'array item property changed type',
    open({ lines: { type: 'array', items: open({ qty: { type: 'integer' } }) } }),
    open({ lines: { type: 'array', items: open({ qty: { type: 'string' } }) } }),
    false,
    false,
  ],
  ['minItems added', open({ l: { type: 'array' } }), open({ l: { type: 'array', minItems: 1 } }), false, true],
  ['uniqueItems added', open({ l: { type: 'array' } }), open({ l: { type: 'array', uniqueItems: true } }), false, true],
  [
    'anyOf alternative added',
    open({ v: { anyOf: [{ type: 'string' }] } }),
    open({ v: { anyOf: [{ type: 'string' }, { type: 'number' }] } }),
    true,
    false,
  ],
  [
    'type changed inside a $ref',
    { ...open({ a: { $ref: '#/$defs/money' } }), $defs: { money: { type: 'number' } } },
    { ...open({ a: { $ref: '#/$defs/money' } }), $defs: { money: { type: 'string' } } },
    false,
    false,
  ],
  ['title and description changed', open({}), { ...open({}), title: 'Order', description: 'an order' }, true, true],
  [
    'optional property added to a model closed by unevaluatedProperties',
    { ...open({}), unevaluatedProperties: false },
    { ...open({ note: id }), unevaluatedProperties: false },
    true,
    false,
  ],
  [
    'a keyword these rules do not judge changed (dependentRequired)',
    open({}),
    { ...open({}), dependentRequired: { a: ['b'] } },
    false,
    false,
  ],
  [
    'tuple item removed, rest items closed (prefixItems, items: false)',
    { type: 'array', prefixItems: [id, id], items: false },
    { type: 'array', prefixItems: [id], items: false },
    false,
    true,
  ],
  [
    'tuple item removed, rest items closed (draft-07 items array, additionalItems: false)',
    { type: 'array', items: [id, id], additionalItems: false },
    { type: 'array', items: [id], additionalItems: false },
    false,
    true,
  ],
  [
    'tuple item removed, not covered by the rest items schema',
    { type: 'array', prefixItems: [id, id], items: { type: 'number' } },
    { type: 'array', prefixItems: [id], items: { type: 'number' } },
    false,
    false,
  ],
  [
    'tuple item removed, covered by the rest items schema',
    { type: 'array', prefixItems: [id, id], items: { type: 'string' } },
    { type: 'array', prefixItems: [id], items: { type: 'string' } },
    true,
    true,
  ],
  [
    'tuple item removed from an open tuple',
    { type: 'array', prefixItems: [id, id] },
    { type: 'array', prefixItems: [id] },
    true,
    false,
  ],
  [
    'tuple item added to a closed tuple',
    { type: 'array', prefixItems: [id], items: false },
    { type: 'array', prefixItems: [id, id], items: false },
    true,
    false,
  ],
  [
    'tuple item added to an open tuple',
    { type: 'array', prefixItems: [id] },
    { type: 'array', prefixItems: [id, id] },
    false,
    true,
  ],
  [
    'tuple item with an empty schema added to an open tuple',
    { type: 'array', prefixItems: [id] },
    { type: 'array', prefixItems: [id, {}] },
    true,
    true,
  ],
  [
    'tuple item added, not covered by the rest items schema (draft-07)',
    { type: 'array', items: [id], additionalItems: { type: 'number' } },
    { type: 'array', items: [id, id], additionalItems: { type: 'number' } },
    false,
    false,
  ],
  [
    'pattern property removed from a closed model',
    { type: 'object', patternProperties: { '^x_': id }, additionalProperties: false },
    { type: 'object', additionalProperties: false },
    false,
    true,
  ],
  [
    'pattern property removed from an open model',
    { type: 'object', patternProperties: { '^x_': id } },
    { type: 'object' },
    true,
    false,
  ],
  [
    'pattern property removed, covered by a partially open model',
    { type: 'object', patternProperties: { '^x_': id }, additionalProperties: id },
    { type: 'object', additionalProperties: id },
    true,
    true,
  ],
  [
    'pattern property removed, not covered by a partially open model',
    { type: 'object', patternProperties: { '^x_': { type: 'number' } }, additionalProperties: id },
    { type: 'object', additionalProperties: id },
    false,
    false,
  ],
  [
    'required property with an empty schema added to an open model',
    open({}),
    open({ p: {} }, ['id', 'p']),
    false,
    true,
  ],
  [
    'required property with a true schema added to an open model',
    open({}),
    open({ p: true }, ['id', 'p']),
    false,
    true,
  ],
  [
    'property added to a model with only patternProperties (open for other names)',
    { type: 'object', patternProperties: { '^x_': id } },
    { type: 'object', properties: { foo: { type: 'number' } }, patternProperties: { '^x_': id } },
    false,
    true,
  ],
  [
    'property removed from a model with only patternProperties (open for other names)',
    { type: 'object', properties: { foo: { type: 'number' } }, patternProperties: { '^x_': id } },
    { type: 'object', patternProperties: { '^x_': id } },
    true,
    false,
  ],
  [
    'property added, covered by a matching patternProperties schema',
    { type: 'object', patternProperties: { '^x_': id } },
    { type: 'object', properties: { x_a: id }, patternProperties: { '^x_': id } },
    true,
    true,
  ],
  [
    'type changed inside a $ref to an $anchor',
    { ...open({ a: { $ref: '#money' } }), $defs: { money: { $anchor: 'money', type: 'number' } } },
    { ...open({ a: { $ref: '#money' } }), $defs: { money: { $anchor: 'money', type: 'string' } } },
    false,
    false,
  ],
  [
    'type changed inside a $ref to an $id',
    {
      ...open({ a: { $ref: 'https://example.com/money' } }),
      $defs: { m: { $id: 'https://example.com/money', type: 'number' } },
    },
    {
      ...open({ a: { $ref: 'https://example.com/money' } }),
      $defs: { m: { $id: 'https://example.com/money', type: 'string' } },
    },
    false,
    false,
  ],
];

const MODES: CompatibilityMode[] = [
  'none',
  'backward',
  'forward',
  'full',
  'backward-transitive',
  'forward-transitive',
  'full-transitive',
];

function expected(mode: CompatibilityMode, backward: boolean, forward: boolean): boolean {
  if (mode === 'none') return true;
  if (mode.startsWith('backward')) return backward;
  if (mode.startsWith('forward')) return forward;
  return backward && forward;
}

describe('compatibility of one change under each mode', () => {
  const rows = CHANGES.flatMap(([change, before, after, backward, forward]) =>
    MODES.map((mode) => [change, mode, before, after, expected(mode, backward, forward)] as const),
  );
  it.each(rows)('%s under %s', (_change, mode, before, after, accepted) => {
    const reasons = checkCompatibility(after, [{ version: 1, document: before }], mode);
    expect(reasons.length === 0, reasons.map((r) => r.message).join('\n')).toBe(accepted);
  });
});

describe('reasons', () => {
  it.each([
    [
      'backward',
      open({}),
      open({ currency: { type: 'string' } }),
      'property "currency" added to an open content model',
    ],
    [
      'forward',
      closed({}),
      closed({ currency: id }),
      'property "currency" added, but the old schema\'s closed content model rejects it',
    ],
    [
      'backward',
      open({ qty: { type: 'number' } }),
      open({ qty: { type: 'integer' } }),
      'property "qty": type narrowed from "number" to "integer"',
    ],
    [
      'forward',
      open({ qty: { type: 'integer' } }),
      open({ qty: { type: 'number' } }),
      'property "qty": type widened from "integer" to "number"',
    ],
    [
      'backward',
      open({ c: { enum: ['EUR', 'USD'] } }),
      open({ c: { enum: ['EUR'] } }),
      'property "c": enum values removed ("USD")',
    ],
    [
      'forward',
      open({ c: { enum: ['EUR'] } }),
      open({ c: { enum: ['EUR', 'USD'] } }),
      'property "c": enum values added ("USD")',
    ],
    [
      'backward',
      open({ s: { type: 'string', maxLength: 50 } }),
      open({ s: { type: 'string', maxLength: 20 } }),
      'property "s": maxLength tightened from 50 to 20',
    ],
    ['backward', open({ note: id }), open({ note: id }, ['id', 'note']), 'property "note" made required'],
    ['forward', open({ note: id }, ['id', 'note']), open({ note: id }), 'property "note" no longer required'],
    [
      'backward',
      open({ lines: { type: 'array', items: open({ qty: { type: 'integer' } }) } }),
      open({ lines: { type: 'array', items: open({ qty: { type: 'string' } }) } }),
      'property "lines[].qty": type changed from "integer" to "string"',
    ],
    ['backward', open({}), closed({}), 'the data: additionalProperties set to false (the content model was closed)'],
    [
      'backward',
      { type: 'array', prefixItems: [id, id], items: false },
      { type: 'array', prefixItems: [id], items: false },
      'the data: tuple item [1] removed, and the new schema allows no item there (old data holds it)',
    ],
    [
      'backward',
      { type: 'object', patternProperties: { '^x_': id }, additionalProperties: false },
      { type: 'object', additionalProperties: false },
      'the data: patternProperties /^x_/ removed from a closed content model (old data holds such properties)',
    ],
    ['backward', open({}), open({ p: {} }, ['id', 'p']), 'property "p" made required'],
  ] as const)('%s: %s', (mode, before, after, message) => {
    const reasons = checkCompatibility(after, [{ version: 1, document: before }], mode);
    expect(reasons.map((r) => r.message)).toEqual([message]);
  });

  it('names every reason, one per broken rule', () => {
    const before = open({ qty: { type: 'number' }, note: id });
    const after = open({ qty: { type: 'integer' }, note: id, currency: id }, ['id', 'note']);
    const reasons = checkCompatibility(after, [{ version: 1, document: before }], 'backward');
    expect(reasons.map((r) => r.message).sort()).toEqual([
      'property "currency" added to an open content model',
      'property "note" made required',
      'property "qty": type narrowed from "number" to "integer"',
    ]);
  });
});

describe('transitive modes', () => {
  const v1 = open({ qty: { type: 'number' } });
  const v2 = open({ qty: { type: 'integer' } });
  const v3 = { ...open({ qty: { type: 'integer' } }), title: 'v3' };
  const history = [
    { version: 1, document: v1 },
    { version: 2, document: v2 },
  ];

  it.each([
    ['backward', []],
    ['backward-transitive', [1]],
    ['full', []],
    ['full-transitive', [1]],
    ['forward', []],
    ['forward-transitive', []],
  ] as const)('%s checks %j', (mode, failingVersions) => {
    const reasons = checkCompatibility(v3, history, mode);
    expect([...new Set(reasons.map((r) => r.againstVersion))]).toEqual(failingVersions);
  });

  it('forward-transitive sees what only an older version cannot read', () => {
    const older = [
      { version: 1, document: v2 },
      { version: 2, document: v1 },
    ];
    expect(checkCompatibility(v1, older, 'forward')).toEqual([]);
    const reasons = checkCompatibility(v1, older, 'forward-transitive');
    expect(reasons.map((r) => [r.againstVersion, r.direction, r.message])).toEqual([
      [1, 'forward', 'property "qty": type widened from "integer" to "number"'],
    ]);
  });
});
