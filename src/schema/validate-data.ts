// The JSON Schema validator (Ajv), loaded only when events of a type with a schema are
// appended or a schema is checked: it adds ~100 ms of compilation to a process that needs it,
// and nothing to one that does not.
import AjvDraft07Module from 'ajv';
import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EvlogError } from '../errors.js';
import type { JsonSchema } from './compatibility.js';

type AjvInstance = InstanceType<typeof Ajv2020Module.default>;
type AjvClass = new (options: object) => AjvInstance;

// CommonJS packages: under Node's ESM loader the default import is module.exports, which
// carries the class again as `.default`; under esbuild's bundle it is the class itself.
const interop = <T>(module: T): T => (module as { default?: T }).default ?? module;
const Ajv2020 = interop(Ajv2020Module) as unknown as AjvClass;
const AjvDraft07 = interop(AjvDraft07Module) as unknown as AjvClass;
const addFormats = interop(addFormatsModule) as unknown as (ajv: AjvInstance) => void;

/** A compiled schema: true when the data is valid. */
export type DataValidator = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** One way the data breaks its schema. */
export interface Violation {
  /** JSONPath of the offending value, e.g. `$.customer.email`, `$.lines[0].qty`. */
  path: string;
  /** The JSON Schema keyword broken: `type`, `required`, `maxLength`, … */
  rule: string;
  message: string;
  /** The offending value (undefined for a missing property). */
  value: unknown;
}

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

/**
 * Ajv's warnings (an unknown `format`, ignored when not strict) would reach the user's
 * terminal as bare lines and let a schema through that does not check what it says:
 * they become errors, which compileSchema reports as an invalid schema.
 */
const refuseWarnings = {
  log() {},
  warn(...message: unknown[]) {
    throw new Error(message.map(String).join(' ').replace(' ignored in schema', ' in schema'));
  },
  error(...message: unknown[]) {
    throw new Error(message.map(String).join(' '));
  },
};

let draft07: AjvInstance | undefined;
let draft2020: AjvInstance | undefined;

function ajvFor(document: JsonSchema): AjvInstance {
  const declared = typeof document === 'object' ? document.$schema : undefined;
  if (declared === undefined || (typeof declared === 'string' && DRAFT_2020.test(declared))) {
    draft2020 ??= withFormats(new Ajv2020({ allErrors: true, strict: false, logger: refuseWarnings }));
    return draft2020;
  }
  if (typeof declared === 'string' && DRAFT_07.test(declared)) {
    draft07 ??= withFormats(new AjvDraft07({ allErrors: true, strict: false, logger: refuseWarnings }));
    return draft07;
  }
  throw new EvlogError('invalid', `unsupported $schema ${JSON.stringify(declared)}`, {
    hint: 'use https://json-schema.org/draft/2020-12/schema (the default) or http://json-schema.org/draft-07/schema#',
  });
}

function withFormats(ajv: AjvInstance): AjvInstance {
  addFormats(ajv);
  return ajv;
}

/**
 * Compiles a JSON Schema (draft 2020-12 unless its `$schema` says draft-07). A document that
 * is not a valid schema is an `invalid` error naming `label` and what is wrong.
 */
export function compileSchema(document: JsonSchema, label: string): DataValidator {
  if (typeof document !== 'boolean' && (document === null || typeof document !== 'object' || Array.isArray(document))) {
    throw new EvlogError('invalid', `${label} is not a JSON Schema: it must be an object or a boolean`);
  }
  const ajv = ajvFor(document);
  if (!ajv.validateSchema(document)) {
    const problems = (ajv.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? e.keyword}`);
    throw new EvlogError('invalid', `${label} is not a valid JSON Schema: ${problems[0] ?? 'unknown problem'}`, {
      details: problems.slice(1),
    });
  }
  try {
    // Without its $id: Ajv keeps every compiled schema by id, and versions of a type share one.
    let schema: JsonSchema = document;
    if (typeof document === 'object') {
      const { $id: _id, ...rest } = document;
      schema = rest;
    }
    return ajv.compile(schema) as unknown as DataValidator;
  } catch (error) {
    throw new EvlogError(
      'invalid',
      `${label} cannot be compiled: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Why the data fails `validate`, one violation per broken rule; empty when it is valid. */
export function findViolations(validate: DataValidator, data: unknown): Violation[] {
  if (validate(data)) return [];
  return (validate.errors ?? []).map((error) => {
    let pointer = error.instancePath;
    if (error.keyword === 'required') pointer += `/${String(error.params.missingProperty)}`;
    if (error.keyword === 'additionalProperties') pointer += `/${String(error.params.additionalProperty)}`;
    if (error.keyword === 'unevaluatedProperties') pointer += `/${String(error.params.unevaluatedProperty)}`;
    const value = error.keyword === 'required' ? undefined : valueAt(data, pointer);
    let message = error.message ?? error.keyword;
    if (error.keyword === 'required') message = 'is required';
    if (error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties') {
      message = 'is not allowed (no additional properties)';
    }
    return { path: jsonPath(pointer), rule: error.keyword, message, value };
  });
}

/** `$.total: must be number (type), got "12"`. */
export function formatViolation(violation: Violation): string {
  const got = violation.value === undefined ? '' : `, got ${abbreviate(JSON.stringify(violation.value))}`;
  return `${violation.path}: ${violation.message} (${violation.rule})${got}`;
}

function abbreviate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function steps(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((step) => step.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPath(pointer: string): string {
  let path = '$';
  for (const step of steps(pointer)) {
    path += /^\d+$/.test(step)
      ? `[${step}]`
      : /^[A-Za-z_$][\w$]*$/.test(step)
        ? `.${step}`
        : `[${JSON.stringify(step)}]`;
  }
  return path;
}

function valueAt(data: unknown, pointer: string): unknown {
  let current = data;
  for (const step of steps(pointer)) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}
