import type { CompatibilityMode } from '../store/types.js';

/**
 * Schema compatibility, with the rules the Confluent Schema Registry applies to JSON Schema,
 * including its open, closed and partially open content models. Pure functions over two
 * schema documents; no I/O.
 *
 * The core is `diffSchemas(writer, reader)`: can a reader holding `reader` accept every
 * document that was valid under `writer`? Each change is one `SchemaChange`; the ones in
 * `INCOMPATIBLE` say it cannot. `backward` asks it with writer = old, reader = new;
 * `forward` with writer = new, reader = old; `full` both; `-transitive` against every
 * earlier version instead of the latest only.
 */

/** A JSON Schema: an object, or `true` / `false`. */
export type JsonSchema = boolean | { [keyword: string]: unknown };

type SchemaObject = { [keyword: string]: unknown };

/** What changed between the writer's and the reader's schema, named from the writer to the reader. */
export type ChangeKind =
  | 'property-added-to-open-content-model'
  | 'property-with-empty-schema-added-to-open-content-model'
  | 'optional-property-added-to-closed-content-model'
  | 'required-property-added-to-closed-content-model'
  | 'required-property-with-default-added-to-closed-content-model'
  | 'property-added-covered-by-partially-open-content-model'
  | 'property-added-not-covered-by-partially-open-content-model'
  | 'property-removed-from-open-content-model'
  | 'property-removed-from-closed-content-model'
  | 'property-with-false-removed-from-closed-content-model'
  | 'property-removed-covered-by-partially-open-content-model'
  | 'property-removed-not-covered-by-partially-open-content-model'
  | 'required-added'
  | 'required-with-default-added'
  | 'required-removed'
  | 'type-extended'
  | 'type-narrowed'
  | 'type-changed'
  | 'schema-became-false'
  | 'enum-added'
  | 'enum-removed'
  | 'enum-extended'
  | 'enum-narrowed'
  | 'enum-changed'
  | 'const-added'
  | 'const-removed'
  | 'const-changed'
  | 'format-added'
  | 'format-removed'
  | 'format-changed'
  | 'pattern-added'
  | 'pattern-removed'
  | 'pattern-changed'
  | 'limit-added'
  | 'limit-removed'
  | 'limit-tightened'
  | 'limit-loosened'
  | 'multiple-of-added'
  | 'multiple-of-removed'
  | 'multiple-of-reduced'
  | 'multiple-of-changed'
  | 'unique-items-added'
  | 'unique-items-removed'
  | 'additional-properties-opened'
  | 'additional-properties-closed'
  | 'additional-properties-narrowed'
  | 'additional-properties-extended'
  | 'pattern-property-added-to-open-content-model'
  | 'pattern-property-added-to-closed-content-model'
  | 'pattern-property-added-covered-by-partially-open-content-model'
  | 'pattern-property-added-not-covered-by-partially-open-content-model'
  | 'pattern-property-removed-from-open-content-model'
  | 'pattern-property-removed-from-closed-content-model'
  | 'pattern-property-removed-covered-by-partially-open-content-model'
  | 'pattern-property-removed-not-covered-by-partially-open-content-model'
  | 'tuple-item-added-to-open-content-model'
  | 'tuple-item-with-empty-schema-added-to-open-content-model'
  | 'tuple-item-added-to-closed-content-model'
  | 'tuple-item-added-covered-by-partially-open-content-model'
  | 'tuple-item-added-not-covered-by-partially-open-content-model'
  | 'tuple-item-removed-from-open-content-model'
  | 'tuple-item-removed-from-closed-content-model'
  | 'tuple-item-removed-covered-by-partially-open-content-model'
  | 'tuple-item-removed-not-covered-by-partially-open-content-model'
  | 'alternatives-extended'
  | 'alternatives-narrowed'
  | 'all-of-member-added'
  | 'all-of-member-removed'
  | 'not-added'
  | 'not-removed'
  | 'not-changed'
  | 'unjudged-keyword-changed';

/** The changes that make a reader reject some of the writer's data. */
export const INCOMPATIBLE: ReadonlySet<ChangeKind> = new Set<ChangeKind>([
  'property-added-to-open-content-model',
  'required-property-added-to-closed-content-model',
  'property-added-not-covered-by-partially-open-content-model',
  'property-removed-from-closed-content-model',
  'property-removed-not-covered-by-partially-open-content-model',
  'required-added',
  'type-narrowed',
  'type-changed',
  'schema-became-false',
  'enum-added',
  'enum-narrowed',
  'enum-changed',
  'const-added',
  'const-changed',
  'format-added',
  'format-changed',
  'pattern-added',
  'pattern-changed',
  'limit-added',
  'limit-tightened',
  'multiple-of-added',
  'multiple-of-changed',
  'unique-items-added',
  'additional-properties-closed',
  'additional-properties-narrowed',
  'pattern-property-added-to-open-content-model',
  'pattern-property-added-not-covered-by-partially-open-content-model',
  'pattern-property-removed-from-closed-content-model',
  'pattern-property-removed-not-covered-by-partially-open-content-model',
  'tuple-item-added-to-open-content-model',
  'tuple-item-added-not-covered-by-partially-open-content-model',
  'tuple-item-removed-from-closed-content-model',
  'tuple-item-removed-not-covered-by-partially-open-content-model',
  'alternatives-narrowed',
  'all-of-member-added',
  'not-added',
  'not-changed',
  'unjudged-keyword-changed',
]);

/**
 * Keywords these rules do not reason about. A change to one is reported as incompatible
 * rather than let through unseen; `none` registers such a change on purpose.
 */
const UNJUDGED_KEYWORDS = [
  'if',
  'then',
  'else',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'propertyNames',
  'contains',
  'minContains',
  'maxContains',
  'unevaluatedItems',
  'additionalItems',
] as const;

/** One difference between a writer's and a reader's schema, at a path into the data. */
export interface SchemaChange {
  kind: ChangeKind;
  /** Where in the data: `customer.email`, `lines[].qty`; '' for the data itself. */
  path: string;
  /** The keyword involved, for limits (`maxLength`, `minimum`, …) and the like. */
  keyword?: string;
  /** The writer's and the reader's value of that keyword (or type), when there is one. */
  writer?: unknown;
  reader?: unknown;
}

const JSON_TYPES = ['null', 'boolean', 'object', 'array', 'number', 'integer', 'string'] as const;

interface Side {
  root: JsonSchema;
}

/**
 * Every difference that matters for reading `writer`'s data with `reader`, compatible or not.
 *
 * @example diffSchemas(v1, v2).filter((c) => INCOMPATIBLE.has(c.kind))
 */
export function diffSchemas(writer: JsonSchema, reader: JsonSchema): SchemaChange[] {
  const changes: SchemaChange[] = [];
  compare({ root: writer }, writer, { root: reader }, reader, '', changes, new Set());
  return changes;
}

/** True when `reader` accepts everything `writer` does, as far as these rules can tell. */
export function canRead(writer: JsonSchema, reader: JsonSchema): boolean {
  return diffSchemas(writer, reader).every((change) => !INCOMPATIBLE.has(change.kind));
}

function compare(
  writerSide: Side,
  writerSchema: JsonSchema,
  readerSide: Side,
  readerSchema: JsonSchema,
  path: string,
  out: SchemaChange[],
  seen: Set<string>,
): void {
  const w = resolve(writerSide, writerSchema);
  const r = resolve(readerSide, readerSchema);
  // Recursive schemas: a pair of references already being compared is not compared again.
  const pairKey = `${refOf(writerSchema)}|${refOf(readerSchema)}`;
  if (pairKey !== 'undefined|undefined') {
    if (seen.has(pairKey)) return;
    seen = new Set(seen).add(pairKey);
  }
  if (w === false || r === true) return;
  if (r === false) {
    out.push({ kind: 'schema-became-false', path });
    return;
  }
  const ws: SchemaObject = w === true ? {} : w;
  const rs: SchemaObject = r;

  for (const keyword of UNJUDGED_KEYWORDS) {
    if (keyword === 'additionalItems' && (Array.isArray(ws.items) || Array.isArray(rs.items))) continue;
    if (canonical(ws[keyword]) !== canonical(rs[keyword]))
      out.push({ kind: 'unjudged-keyword-changed', path, keyword });
  }
  compareCombinations(writerSide, ws, readerSide, rs, path, out, seen);
  // anyOf/oneOf on either side: each alternative was compared whole, sibling keywords included.
  if (alternativesOf(ws) || alternativesOf(rs)) return;
  const common = compareTypes(ws, rs, path, out);
  compareValues(ws, rs, path, out);
  if (common.has('string')) compareStrings(ws, rs, path, out);
  if (common.has('number') || common.has('integer')) compareNumbers(ws, rs, path, out);
  if (common.has('object')) compareObjects(writerSide, ws, readerSide, rs, path, out, seen);
  if (common.has('array')) compareArrays(writerSide, ws, readerSide, rs, path, out, seen);
}

/** The subschema whose `$anchor` is `#name`'s name, or whose `$id` is `ref` exactly. */
function findIdentified(node: unknown, ref: string, depth: number): JsonSchema | undefined {
  if (node === null || typeof node !== 'object' || depth > 64) return undefined;
  if (!Array.isArray(node)) {
    const s = node as SchemaObject;
    if (s.$id === ref || (ref.startsWith('#') && s.$anchor === ref.slice(1))) return s;
  }
  for (const [key, child] of Object.entries(node)) {
    if (key === 'const' || key === 'enum' || key === 'default' || key === 'examples') continue;
    const found = findIdentified(child, ref, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function refOf(schema: JsonSchema): string | undefined {
  return typeof schema === 'object' && typeof schema.$ref === 'string' ? schema.$ref : undefined;
}

/**
 * Follows local `$ref`s: JSON pointers (`#/definitions/x`, `#/$defs/x`), `#name` to an `$anchor`
 * (or a draft-07 `"$id": "#name"`), and a URI equal to some subschema's `$id` as written (no
 * base-URI resolution). Other keywords beside a `$ref` are merged in.
 */
function resolve(side: Side, schema: JsonSchema, depth = 0): JsonSchema {
  if (typeof schema !== 'object' || typeof schema.$ref !== 'string' || depth > 32) return schema;
  const ref = schema.$ref;
  let target: unknown = side.root;
  if (ref === '#' || ref.startsWith('#/')) {
    for (const raw of ref.slice(1).split('/').filter(Boolean)) {
      const step = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      target = target !== null && typeof target === 'object' ? (target as SchemaObject)[step] : undefined;
    }
  } else target = findIdentified(side.root, ref, 0);
  if (typeof target !== 'boolean' && (target === null || typeof target !== 'object')) return schema;
  const { $ref: _ref, ...rest } = schema;
  const resolved = resolve(side, target as JsonSchema, depth + 1);
  if (Object.keys(rest).length === 0 || typeof resolved === 'boolean') return resolved;
  return { ...resolved, ...rest };
}

/** The JSON types a schema allows: its `type`, or every type when it has none. */
function typesOf(schema: SchemaObject): Set<string> {
  const type = schema.type;
  if (typeof type === 'string') return new Set([type]);
  if (Array.isArray(type)) return new Set(type.filter((t): t is string => typeof t === 'string'));
  return new Set(JSON_TYPES);
}

/** Does the type set accept `type`? `number` accepts integers. */
function accepts(types: Set<string>, type: string): boolean {
  return types.has(type) || (type === 'integer' && types.has('number'));
}

function describeTypes(schema: SchemaObject): string {
  const type = schema.type;
  if (type === undefined) return 'any';
  return Array.isArray(type) ? type.join(' | ') : String(type);
}

/** Compares `type`; returns the types both allow, whose keywords are compared next. */
function compareTypes(w: SchemaObject, r: SchemaObject, path: string, out: SchemaChange[]): Set<string> {
  const wt = typesOf(w);
  const rt = typesOf(r);
  const common = new Set([...wt].filter((t) => accepts(rt, t)));
  // number → integer keeps the integers: a narrowing, not a change of kind.
  if (wt.has('number') && rt.has('integer')) common.add('integer');
  const lost = [...wt].filter((t) => !accepts(rt, t));
  const gained = [...rt].filter((t) => !accepts(wt, t) && !(t === 'number' && wt.has('integer') && !wt.has('number')));
  const widenedInteger = wt.has('integer') && !wt.has('number') && rt.has('number');
  const change = { path, writer: describeTypes(w), reader: describeTypes(r) };
  if (lost.length > 0) out.push({ kind: common.size > 0 ? 'type-narrowed' : 'type-changed', ...change });
  else if (gained.length > 0 || widenedInteger) out.push({ kind: 'type-extended', ...change });
  return common;
}

function compareCombinations(
  writerSide: Side,
  w: SchemaObject,
  readerSide: Side,
  r: SchemaObject,
  path: string,
  out: SchemaChange[],
  seen: Set<string>,
): void {
  const wAlternatives = alternativesOf(w);
  const rAlternatives = alternativesOf(r);
  if (wAlternatives || rAlternatives) {
    // Every kind of data the writer could write must be readable by some reader alternative.
    const writerCases = wAlternatives ?? [stripAlternatives(w)];
    const readerCases = rAlternatives ?? [stripAlternatives(r)];
    const unreadable = writerCases.some(
      (writerCase) =>
        !readerCases.some((readerCase) => {
          const sub: SchemaChange[] = [];
          compare(writerSide, writerCase, readerSide, readerCase, path, sub, seen);
          return sub.every((c) => !INCOMPATIBLE.has(c.kind));
        }),
    );
    if (unreadable) out.push({ kind: 'alternatives-narrowed', path, keyword: keywordOfAlternatives(w, r) });
    else if (readerCases.length > writerCases.length)
      out.push({ kind: 'alternatives-extended', path, keyword: keywordOfAlternatives(w, r) });
  }
  const wAll = Array.isArray(w.allOf) ? (w.allOf as JsonSchema[]) : [];
  const rAll = Array.isArray(r.allOf) ? (r.allOf as JsonSchema[]) : [];
  for (let i = 0; i < Math.max(wAll.length, rAll.length); i++) {
    const ws = wAll[i];
    const rs = rAll[i];
    if (ws === undefined) out.push({ kind: 'all-of-member-added', path, keyword: `allOf[${i}]` });
    else if (rs === undefined) out.push({ kind: 'all-of-member-removed', path, keyword: `allOf[${i}]` });
    else compare(writerSide, ws, readerSide, rs, path, out, seen);
  }
  if (w.not !== undefined || r.not !== undefined) {
    if (w.not === undefined) out.push({ kind: 'not-added', path, keyword: 'not' });
    else if (r.not === undefined) out.push({ kind: 'not-removed', path, keyword: 'not' });
    else if (canonical(w.not) !== canonical(r.not)) out.push({ kind: 'not-changed', path, keyword: 'not' });
  }
}

function alternativesOf(schema: SchemaObject): JsonSchema[] | undefined {
  const list = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined;
  if (!list) return undefined;
  const rest = stripAlternatives(schema);
  // Keywords beside anyOf/oneOf apply to every alternative.
  return (list as JsonSchema[]).map((alternative) =>
    typeof alternative === 'boolean' || Object.keys(rest).length === 0 ? alternative : { ...rest, ...alternative },
  );
}

function stripAlternatives(schema: SchemaObject): SchemaObject {
  const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = schema;
  return rest;
}

function keywordOfAlternatives(w: SchemaObject, r: SchemaObject): string {
  return 'oneOf' in r || 'oneOf' in w ? 'oneOf' : 'anyOf';
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as SchemaObject)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as SchemaObject)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

function compareValues(w: SchemaObject, r: SchemaObject, path: string, out: SchemaChange[]): void {
  if (Array.isArray(w.enum) || Array.isArray(r.enum)) {
    const we = Array.isArray(w.enum) ? w.enum : undefined;
    const re = Array.isArray(r.enum) ? r.enum : undefined;
    if (!we) out.push({ kind: 'enum-added', path, keyword: 'enum', reader: re });
    else if (!re) out.push({ kind: 'enum-removed', path, keyword: 'enum', writer: we });
    else {
      const wSet = new Set(we.map(canonical));
      const rSet = new Set(re.map(canonical));
      const removed = we.filter((v) => !rSet.has(canonical(v)));
      const added = re.filter((v) => !wSet.has(canonical(v)));
      const change = { path, keyword: 'enum', writer: removed, reader: added };
      if (removed.length > 0 && added.length > 0) out.push({ kind: 'enum-changed', ...change });
      else if (removed.length > 0) out.push({ kind: 'enum-narrowed', ...change });
      else if (added.length > 0) out.push({ kind: 'enum-extended', ...change });
    }
  }
  if ('const' in w || 'const' in r) {
    if (!('const' in w)) out.push({ kind: 'const-added', path, keyword: 'const', reader: r.const });
    else if (!('const' in r)) out.push({ kind: 'const-removed', path, keyword: 'const', writer: w.const });
    else if (canonical(w.const) !== canonical(r.const))
      out.push({ kind: 'const-changed', path, keyword: 'const', writer: w.const, reader: r.const });
  }
}

/** A keyword whose value can be added, removed, or moved in one direction (tightened) or the other. */
function compareLimit(
  w: SchemaObject,
  r: SchemaObject,
  keyword: string,
  tighterWhen: 'smaller' | 'larger',
  path: string,
  out: SchemaChange[],
): void {
  const wv = typeof w[keyword] === 'number' ? (w[keyword] as number) : undefined;
  const rv = typeof r[keyword] === 'number' ? (r[keyword] as number) : undefined;
  if (wv === rv) return;
  const change = { path, keyword, writer: wv, reader: rv };
  if (wv === undefined) out.push({ kind: 'limit-added', ...change });
  else if (rv === undefined) out.push({ kind: 'limit-removed', ...change });
  else if (tighterWhen === 'smaller' ? rv < wv : rv > wv) out.push({ kind: 'limit-tightened', ...change });
  else out.push({ kind: 'limit-loosened', ...change });
}

function compareKeywordText(
  w: SchemaObject,
  r: SchemaObject,
  keyword: 'pattern' | 'format',
  path: string,
  out: SchemaChange[],
): void {
  const wv = typeof w[keyword] === 'string' ? w[keyword] : undefined;
  const rv = typeof r[keyword] === 'string' ? r[keyword] : undefined;
  if (wv === rv) return;
  const change = { path, keyword, writer: wv, reader: rv };
  if (wv === undefined) out.push({ kind: `${keyword}-added`, ...change });
  else if (rv === undefined) out.push({ kind: `${keyword}-removed`, ...change });
  else out.push({ kind: `${keyword}-changed`, ...change });
}

function compareStrings(w: SchemaObject, r: SchemaObject, path: string, out: SchemaChange[]): void {
  compareLimit(w, r, 'maxLength', 'smaller', path, out);
  compareLimit(w, r, 'minLength', 'larger', path, out);
  compareKeywordText(w, r, 'pattern', path, out);
  compareKeywordText(w, r, 'format', path, out);
}

function compareNumbers(w: SchemaObject, r: SchemaObject, path: string, out: SchemaChange[]): void {
  compareLimit(w, r, 'maximum', 'smaller', path, out);
  compareLimit(w, r, 'exclusiveMaximum', 'smaller', path, out);
  compareLimit(w, r, 'minimum', 'larger', path, out);
  compareLimit(w, r, 'exclusiveMinimum', 'larger', path, out);
  const wm = typeof w.multipleOf === 'number' ? w.multipleOf : undefined;
  const rm = typeof r.multipleOf === 'number' ? r.multipleOf : undefined;
  if (wm === rm) return;
  const change = { path, keyword: 'multipleOf', writer: wm, reader: rm };
  if (wm === undefined) out.push({ kind: 'multiple-of-added', ...change });
  else if (rm === undefined) out.push({ kind: 'multiple-of-removed', ...change });
  else if (Number.isInteger(wm / rm)) out.push({ kind: 'multiple-of-reduced', ...change });
  else out.push({ kind: 'multiple-of-changed', ...change });
}

function compareArrays(
  writerSide: Side,
  w: SchemaObject,
  readerSide: Side,
  r: SchemaObject,
  path: string,
  out: SchemaChange[],
  seen: Set<string>,
): void {
  compareLimit(w, r, 'maxItems', 'smaller', path, out);
  compareLimit(w, r, 'minItems', 'larger', path, out);
  if ((w.uniqueItems === true) !== (r.uniqueItems === true)) {
    out.push({
      kind: r.uniqueItems === true ? 'unique-items-added' : 'unique-items-removed',
      path,
      keyword: 'uniqueItems',
    });
  }
  // Tuples: `prefixItems` (2020-12) or an array under `items` (draft-07).
  const wTuple = tupleOf(w);
  const rTuple = tupleOf(r);
  const wItems = restItemsOf(w);
  const rItems = restItemsOf(r);
  for (let i = 0; i < Math.max(wTuple.length, rTuple.length); i++) {
    const ws = wTuple[i];
    const rs = rTuple[i];
    const itemPath = `${path}[${i}]`;
    if (ws !== undefined && rs !== undefined) compare(writerSide, ws, readerSide, rs, itemPath, out, seen);
    else if (rs === undefined && ws !== undefined) {
      // Removed: the writer's data may hold this item; the reader's rest items schema must take it.
      const model = modelOf(rItems ?? true, (partial) => covers(writerSide, ws, readerSide, partial, itemPath, seen));
      if (ws === false && model === 'closed') continue;
      out.push({ kind: `tuple-item-removed-${modelSuffix('removed', model)}`, path: itemPath });
    } else if (rs !== undefined) {
      // Added: the writer may have written any item its rest items schema allowed here.
      const model = modelOf(wItems ?? true, (partial) => covers(writerSide, partial, readerSide, rs, itemPath, seen));
      out.push({
        kind:
          model === 'open' && isEmptySchema(rs)
            ? 'tuple-item-with-empty-schema-added-to-open-content-model'
            : `tuple-item-added-${modelSuffix('added', model)}`,
        path: itemPath,
      });
    }
  }
  if (wItems !== undefined || rItems !== undefined) {
    compare(writerSide, wItems ?? true, readerSide, rItems ?? true, `${path}[]`, out, seen);
  }
}

/** How a content model takes a name or an item it does not declare. */
type Model = 'open' | 'closed' | 'covered' | 'not-covered';

/** The end of a change kind's name: `tuple-item-added-to-…`, `tuple-item-removed-from-…`. */
function modelSuffix<D extends 'added' | 'removed', M extends Model>(direction: D, model: M) {
  const side = direction === 'added' ? 'to' : 'from';
  return (
    model === 'covered'
      ? 'covered-by-partially-open-content-model'
      : model === 'not-covered'
        ? 'not-covered-by-partially-open-content-model'
        : `${side}-${model}-content-model`
  ) as M extends 'covered' | 'not-covered'
    ? `${M}-by-partially-open-content-model`
    : `${D extends 'added' ? 'to' : 'from'}-${M}-content-model`;
}

/** Open (`true`), closed (`false`), or partially open: then whether `covered(schema)` holds. */
function modelOf(schema: JsonSchema, covered: (partial: JsonSchema) => boolean): Model {
  if (schema === true) return 'open';
  if (schema === false) return 'closed';
  return covered(schema) ? 'covered' : 'not-covered';
}

/** Does a reader holding `readerSchema` take everything valid under `writerSchema`? */
function covers(
  writerSide: Side,
  writerSchema: JsonSchema,
  readerSide: Side,
  readerSchema: JsonSchema,
  path: string,
  seen: Set<string>,
): boolean {
  const sub: SchemaChange[] = [];
  compare(writerSide, writerSchema, readerSide, readerSchema, path, sub, seen);
  return sub.every((c) => !INCOMPATIBLE.has(c.kind));
}

function isEmptySchema(schema: JsonSchema): boolean {
  return schema === true || (typeof schema === 'object' && Object.keys(schema).length === 0);
}

function tupleOf(schema: SchemaObject): JsonSchema[] {
  if (Array.isArray(schema.prefixItems)) return schema.prefixItems as JsonSchema[];
  if (Array.isArray(schema.items)) return schema.items as JsonSchema[];
  return [];
}

function restItemsOf(schema: SchemaObject): JsonSchema | undefined {
  if (Array.isArray(schema.items)) return schema.additionalItems as JsonSchema | undefined;
  return schema.items as JsonSchema | undefined;
}

function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function propertiesOf(schema: SchemaObject): Record<string, JsonSchema> {
  const properties = schema.properties;
  return properties !== null && typeof properties === 'object' ? (properties as Record<string, JsonSchema>) : {};
}

function requiredOf(schema: SchemaObject): Set<string> {
  return new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
}

function patternPropertiesOf(schema: SchemaObject): Record<string, JsonSchema> {
  const patterns = schema.patternProperties;
  return patterns !== null && typeof patterns === 'object' ? (patterns as Record<string, JsonSchema>) : {};
}

/**
 * The schema for properties not declared: `additionalProperties`, or in 2020-12 style
 * `unevaluatedProperties` (which closes a model the same way when it is false).
 */
function additionalOf(schema: SchemaObject): unknown {
  return schema.additionalProperties ?? schema.unevaluatedProperties;
}

/**
 * The schema a model holds an undeclared property name to: the first `patternProperties`
 * schema whose pattern matches it, else `additionalProperties` (or `unevaluatedProperties`),
 * else `true`: a name no pattern matches is open when additionalProperties is left out.
 */
function undeclaredSchemaFor(schema: SchemaObject, name: string): JsonSchema {
  for (const [pattern, sub] of Object.entries(patternPropertiesOf(schema))) {
    try {
      if (new RegExp(pattern, 'u').test(name)) return sub;
    } catch {
      // A pattern JavaScript cannot read matches nothing here.
    }
  }
  return restPropertiesOf(schema);
}

/** The schema for names matching no pattern: `additionalProperties`, or `true` when left out. */
function restPropertiesOf(schema: SchemaObject): JsonSchema {
  const additional = additionalOf(schema);
  return typeof additional === 'boolean' || (additional !== null && typeof additional === 'object')
    ? (additional as JsonSchema)
    : true;
}

function hasDefault(schema: JsonSchema | undefined): boolean {
  return typeof schema === 'object' && schema !== null && 'default' in schema;
}

function compareObjects(
  writerSide: Side,
  w: SchemaObject,
  readerSide: Side,
  r: SchemaObject,
  path: string,
  out: SchemaChange[],
  seen: Set<string>,
): void {
  const wProps = propertiesOf(w);
  const rProps = propertiesOf(r);
  const wRequired = requiredOf(w);
  const rRequired = requiredOf(r);
  const covered = (writerSchema: JsonSchema, readerSchema: JsonSchema, at: string) =>
    covers(writerSide, writerSchema, readerSide, readerSchema, at, seen);

  for (const name of new Set([...Object.keys(wProps), ...Object.keys(rProps)])) {
    const at = joinPath(path, name);
    const ws = wProps[name];
    const rs = rProps[name];
    if (ws !== undefined && rs !== undefined) {
      compare(writerSide, ws, readerSide, rs, at, out, seen);
    } else if (rs === undefined && ws !== undefined) {
      // Removed: the writer's data may hold it; only the reader's content model decides.
      const model = modelOf(undeclaredSchemaFor(r, name), (partial) => covered(ws, partial, at));
      if (model === 'open') out.push({ kind: 'property-removed-from-open-content-model', path: at });
      else if (model === 'covered')
        out.push({ kind: 'property-removed-covered-by-partially-open-content-model', path: at });
      else if (model === 'not-covered')
        out.push({ kind: 'property-removed-not-covered-by-partially-open-content-model', path: at });
      else if (ws === false) out.push({ kind: 'property-with-false-removed-from-closed-content-model', path: at });
      else out.push({ kind: 'property-removed-from-closed-content-model', path: at });
    } else if (rs !== undefined) {
      // Added: the writer's open model may already have let any value in under this name.
      const model = modelOf(undeclaredSchemaFor(w, name), (partial) => covered(partial, rs, at));
      if (model === 'open') {
        out.push({
          kind: isEmptySchema(rs)
            ? 'property-with-empty-schema-added-to-open-content-model'
            : 'property-added-to-open-content-model',
          path: at,
        });
        // Old data may lack it: a new required property is a required-added besides.
        if (rRequired.has(name))
          out.push({ kind: hasDefault(rs) ? 'required-with-default-added' : 'required-added', path: at });
        continue;
      }
      if (model === 'covered') out.push({ kind: 'property-added-covered-by-partially-open-content-model', path: at });
      else if (model === 'not-covered')
        out.push({ kind: 'property-added-not-covered-by-partially-open-content-model', path: at });
      if (rRequired.has(name)) {
        out.push({
          kind: hasDefault(rs)
            ? 'required-property-with-default-added-to-closed-content-model'
            : 'required-property-added-to-closed-content-model',
          path: at,
        });
      } else out.push({ kind: 'optional-property-added-to-closed-content-model', path: at });
    }
  }

  for (const name of rRequired) {
    if (wRequired.has(name)) continue;
    // A property new to the reader was judged above, with its content model.
    if (rProps[name] !== undefined && wProps[name] === undefined) continue;
    out.push({
      kind: hasDefault(rProps[name]) ? 'required-with-default-added' : 'required-added',
      path: joinPath(path, name),
    });
  }
  for (const name of wRequired) {
    if (!rRequired.has(name) && rProps[name] !== undefined) {
      out.push({ kind: 'required-removed', path: joinPath(path, name) });
    }
  }

  const wAdditional = additionalOf(w);
  const rAdditional = additionalOf(r);
  const wPermits = wAdditional !== false;
  const rPermits = rAdditional !== false;
  if (wPermits !== rPermits) {
    out.push({
      kind: rPermits ? 'additional-properties-opened' : 'additional-properties-closed',
      path,
      keyword: 'additionalProperties',
    });
  } else if (wPermits) {
    const wSchema = typeof wAdditional === 'object' ? (wAdditional as JsonSchema) : undefined;
    const rSchema = typeof rAdditional === 'object' ? (rAdditional as JsonSchema) : undefined;
    if (wSchema === undefined && rSchema !== undefined)
      out.push({ kind: 'additional-properties-narrowed', path, keyword: 'additionalProperties' });
    else if (wSchema !== undefined && rSchema === undefined)
      out.push({ kind: 'additional-properties-extended', path, keyword: 'additionalProperties' });
    else if (wSchema !== undefined && rSchema !== undefined)
      compare(writerSide, wSchema, readerSide, rSchema, joinPath(path, '*'), out, seen);
  }

  const wPatterns = patternPropertiesOf(w);
  const rPatterns = patternPropertiesOf(r);
  for (const pattern of new Set([...Object.keys(wPatterns), ...Object.keys(rPatterns)])) {
    const ws = wPatterns[pattern];
    const rs = rPatterns[pattern];
    const at = joinPath(path, `/${pattern}/`);
    if (ws !== undefined && rs !== undefined) compare(writerSide, ws, readerSide, rs, at, out, seen);
    else if (rs === undefined && ws !== undefined) {
      // Removed, like a removed property: the names it matched now fall to the reader's rest model.
      const model = modelOf(restPropertiesOf(r), (partial) => covered(ws, partial, at));
      if (!(ws === false && model === 'closed'))
        out.push({ kind: `pattern-property-removed-${modelSuffix('removed', model)}`, path, keyword: pattern });
    } else if (rs !== undefined) {
      // Added: the writer's rest model decided what such names could hold.
      const model = modelOf(restPropertiesOf(w), (partial) => covered(partial, rs, at));
      if (!(model === 'open' && isEmptySchema(rs)))
        out.push({ kind: `pattern-property-added-${modelSuffix('added', model)}`, path, keyword: pattern });
    }
  }

  compareLimit(w, r, 'maxProperties', 'smaller', path, out);
  compareLimit(w, r, 'minProperties', 'larger', path, out);
}

/** Which way a check reads: backward = the new schema reads old data; forward = the old reads new. */
export type Direction = 'backward' | 'forward';

/** One reason a new schema version is refused. */
export interface CompatibilityReason {
  /** The earlier version it is incompatible with. */
  againstVersion: number;
  direction: Direction;
  change: SchemaChange;
  /** What changed from the old schema to the new one, e.g. `property "currency" added to an open content model`. */
  message: string;
}

/** The earlier versions a mode checks against: the latest, or all of them (transitive). */
export function versionsToCheck<T extends { version: number }>(mode: CompatibilityMode, earlier: readonly T[]): T[] {
  if (mode === 'none' || earlier.length === 0) return [];
  if (mode.endsWith('-transitive')) return [...earlier];
  return [earlier[earlier.length - 1] as T];
}

/**
 * Why `candidate` may not follow `earlier` (oldest first) under `mode`; empty when it may.
 *
 * @example checkCompatibility(v2, [{ version: 1, document: v1 }], 'backward')
 */
export function checkCompatibility(
  candidate: JsonSchema,
  earlier: readonly { version: number; document: JsonSchema }[],
  mode: CompatibilityMode,
): CompatibilityReason[] {
  const reasons: CompatibilityReason[] = [];
  const directions: Direction[] = mode.startsWith('backward')
    ? ['backward']
    : mode.startsWith('forward')
      ? ['forward']
      : ['backward', 'forward'];
  for (const { version, document } of versionsToCheck(mode, earlier)) {
    for (const direction of directions) {
      const changes = direction === 'backward' ? diffSchemas(document, candidate) : diffSchemas(candidate, document);
      for (const change of changes) {
        if (!INCOMPATIBLE.has(change.kind)) continue;
        reasons.push({ againstVersion: version, direction, change, message: describeChange(change, direction) });
      }
    }
  }
  return reasons;
}

function subject(path: string): string {
  return path === '' ? 'the data' : `property "${path}"`;
}

/** `lines[1]` → `property "lines": tuple item [1]`; `[1]` → `the data: tuple item [1]`. */
function tupleItem(path: string): string {
  const index = path.lastIndexOf('[');
  return `${subject(path.slice(0, index))}: tuple item ${path.slice(index)}`;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => JSON.stringify(v)).join(', ');
  return JSON.stringify(value);
}

/**
 * A change in words, as a change from the old schema to the new one. In a backward check the
 * writer is the old schema; in a forward check the writer is the new one, so the words turn round.
 */
export function describeChange(change: SchemaChange, direction: Direction): string {
  const backward = direction === 'backward';
  const at = subject(change.path);
  const oldValue = backward ? change.writer : change.reader;
  const newValue = backward ? change.reader : change.writer;
  const k = change.keyword;
  switch (change.kind) {
    case 'property-added-to-open-content-model':
      return backward
        ? `${at} added to an open content model`
        : `${at} removed from an open content model (new data may hold it with any value)`;
    case 'property-added-not-covered-by-partially-open-content-model':
      return backward
        ? `${at} added with a schema narrower than the additionalProperties/patternProperties schema old data was written with`
        : `${at} removed, and new data may hold it with values the old schema rejects`;
    case 'required-property-added-to-closed-content-model':
      return backward ? `required ${at} added without a default` : `required ${at} removed`;
    case 'property-removed-from-closed-content-model':
      return backward
        ? `${at} removed from a closed content model (old data holds it)`
        : `${at} added, but the old schema's closed content model rejects it`;
    case 'property-removed-not-covered-by-partially-open-content-model':
      return backward
        ? `${at} removed, and the additionalProperties/patternProperties schema rejects its old values`
        : `${at} added with values the old additionalProperties/patternProperties schema rejects`;
    case 'required-added':
      return backward ? `${at} made required` : `${at} no longer required`;
    case 'type-narrowed':
      return backward
        ? `${at}: type narrowed from ${show(oldValue)} to ${show(newValue)}`
        : `${at}: type widened from ${show(oldValue)} to ${show(newValue)}`;
    case 'type-changed':
      return `${at}: type changed from ${show(oldValue)} to ${show(newValue)}`;
    case 'schema-became-false':
      return backward ? `${at}: schema set to false (accepts nothing)` : `${at}: schema false replaced`;
    case 'enum-added':
      return backward ? `${at}: enum added (${show(change.reader)})` : `${at}: enum removed`;
    case 'enum-narrowed':
      return backward
        ? `${at}: enum values removed (${show(change.writer)})`
        : `${at}: enum values added (${show(change.writer)})`;
    case 'enum-changed':
      return `${at}: enum values changed (removed ${show(backward ? change.writer : change.reader)}; added ${show(
        backward ? change.reader : change.writer,
      )})`;
    case 'const-added':
      return backward ? `${at}: const ${show(change.reader)} added` : `${at}: const ${show(change.reader)} removed`;
    case 'const-changed':
      return `${at}: const changed from ${show(oldValue)} to ${show(newValue)}`;
    case 'format-added':
    case 'pattern-added':
      return backward ? `${at}: ${k} ${show(change.reader)} added` : `${at}: ${k} ${show(change.reader)} removed`;
    case 'format-changed':
    case 'pattern-changed':
      return `${at}: ${k} changed from ${show(oldValue)} to ${show(newValue)}`;
    case 'limit-added':
      return backward ? `${at}: ${k} ${show(change.reader)} added` : `${at}: ${k} ${show(change.reader)} removed`;
    case 'limit-tightened':
      return backward
        ? `${at}: ${k} tightened from ${show(oldValue)} to ${show(newValue)}`
        : `${at}: ${k} loosened from ${show(oldValue)} to ${show(newValue)}`;
    case 'multiple-of-added':
      return backward
        ? `${at}: multipleOf ${show(change.reader)} added`
        : `${at}: multipleOf ${show(change.reader)} removed`;
    case 'multiple-of-changed':
      return `${at}: multipleOf changed from ${show(oldValue)} to ${show(newValue)}`;
    case 'unique-items-added':
      return backward ? `${at}: uniqueItems added` : `${at}: uniqueItems removed`;
    case 'additional-properties-closed':
      return backward
        ? `${at}: additionalProperties set to false (the content model was closed)`
        : `${at}: additionalProperties false removed (the content model was opened)`;
    case 'additional-properties-narrowed':
      return backward
        ? `${at}: additionalProperties restricted to a schema`
        : `${at}: additionalProperties schema removed (any value allowed)`;
    case 'pattern-property-added-to-open-content-model':
      return backward
        ? `${at}: patternProperties /${k}/ added to an open content model`
        : `${at}: patternProperties /${k}/ removed from an open content model (new data may hold such properties with any value)`;
    case 'pattern-property-added-not-covered-by-partially-open-content-model':
      return backward
        ? `${at}: patternProperties /${k}/ added with a schema narrower than the additionalProperties schema old data was written with`
        : `${at}: patternProperties /${k}/ removed, and new data may hold such properties with values the old schema rejects`;
    case 'pattern-property-removed-from-closed-content-model':
      return backward
        ? `${at}: patternProperties /${k}/ removed from a closed content model (old data holds such properties)`
        : `${at}: patternProperties /${k}/ added, but the old schema's closed content model rejects such properties`;
    case 'pattern-property-removed-not-covered-by-partially-open-content-model':
      return backward
        ? `${at}: patternProperties /${k}/ removed, and the additionalProperties schema rejects its old values`
        : `${at}: patternProperties /${k}/ added with values the old additionalProperties schema rejects`;
    case 'tuple-item-added-to-open-content-model':
      return backward
        ? `${tupleItem(change.path)} added to an open tuple (old data may hold any value there)`
        : `${tupleItem(change.path)} removed from an open tuple (new data may hold any value there)`;
    case 'tuple-item-added-not-covered-by-partially-open-content-model':
      return backward
        ? `${tupleItem(change.path)} added with a schema narrower than the rest items schema old data was written with`
        : `${tupleItem(change.path)} removed, and new data may hold values there the old schema rejects`;
    case 'tuple-item-removed-from-closed-content-model':
      return backward
        ? `${tupleItem(change.path)} removed, and the new schema allows no item there (old data holds it)`
        : `${tupleItem(change.path)} added, but the old schema allows no item there`;
    case 'tuple-item-removed-not-covered-by-partially-open-content-model':
      return backward
        ? `${tupleItem(change.path)} removed, and the rest items schema rejects its old values`
        : `${tupleItem(change.path)} added with values the old rest items schema rejects`;
    case 'alternatives-narrowed':
      return backward
        ? `${at}: ${k} no longer accepts every kind of old data`
        : `${at}: ${k} accepts data the old schema rejects`;
    case 'all-of-member-added':
      return backward ? `${at}: ${k} added` : `${at}: ${k} removed`;
    case 'not-added':
      return backward ? `${at}: not added` : `${at}: not removed`;
    case 'not-changed':
      return `${at}: not changed`;
    case 'unjudged-keyword-changed':
      return `${at}: ${k} changed, and evlog cannot tell whether that is compatible`;
    default:
      return `${at}: ${change.kind}`;
  }
}
