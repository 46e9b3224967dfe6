import { EvlogError } from '../errors.js';
import type { EventStore } from '../store/port.js';
import { parseEventRecord, readAllEvents } from '../store/read-all-events.js';
import type { CompatibilityMode } from '../store/types.js';
import { type CompatibilityReason, checkCompatibility, type JsonSchema } from './compatibility.js';

/** How many rejected events a report names by position. */
const FIRST_REJECTED = 5;

/** What registering a schema would do: compatibility with earlier versions, and with stored events. */
export interface SchemaChangeReport {
  type: string;
  /** The version it gets (or, when identical to the latest, the latest). */
  version: number;
  compat: CompatibilityMode;
  /** True when the document equals the latest version: registering it is a no-op. */
  identical: boolean;
  reasons: CompatibilityReason[];
  /** One line per reason: `OrderPlaced v3: property "currency" added to an open content model (backward)`. */
  lines: string[];
  events: {
    checked: number;
    rejected: number;
    /** The first few rejected events: position and the violations, formatted. */
    first: { position: number; violations: string[] }[];
  };
  /** Whether `register` takes it: compatible, and (under any mode but none) rejecting no stored event. */
  accepted: boolean;
}

/** The JSON text a document is stored as: compact, so equal documents are equal text. */
export function schemaDocumentJson(document: JsonSchema): string {
  return JSON.stringify(document);
}

/**
 * Checks `document` as the type's next version: against earlier versions under the type's
 * mode (or `compat`), and against every stored event of the type. Changes nothing.
 */
export async function checkSchemaChange(
  store: EventStore,
  type: string,
  document: JsonSchema,
  options: { compat?: CompatibilityMode } = {},
): Promise<SchemaChangeReport> {
  const { compileSchema, findViolations, formatViolation } = await import('./validate-data.js');
  const earlierSchemas = await store.readSchemas(type);
  const compat = options.compat ?? (await store.compatibilityMode(type));
  const latest = earlierSchemas[earlierSchemas.length - 1];
  const identical = latest !== undefined && latest.documentJson === schemaDocumentJson(document);
  const version = identical ? (latest?.version ?? 1) : (latest?.version ?? 0) + 1;
  const validate = compileSchema(document, `the schema for ${type}`);
  const earlier = earlierSchemas.map((s) => ({
    version: s.version,
    document: JSON.parse(s.documentJson) as JsonSchema,
  }));
  const reasons = identical ? [] : checkCompatibility(document, earlier, compat);
  const transitive = compat.endsWith('-transitive');
  const lines = [
    ...new Set(
      reasons.map(
        (r) => `${type} v${version}: ${r.message} (${compat}${transitive ? `, against v${r.againstVersion}` : ''})`,
      ),
    ),
  ];

  const events = { checked: 0, rejected: 0, first: [] as { position: number; violations: string[] }[] };
  for await (const page of readAllEvents(store, { types: [type] })) {
    for (const record of page) {
      events.checked++;
      const violations = findViolations(validate, parseEventRecord(record).data);
      if (violations.length === 0) continue;
      events.rejected++;
      if (events.first.length < FIRST_REJECTED) {
        events.first.push({ position: record.position, violations: violations.map(formatViolation) });
      }
    }
  }
  const accepted = identical || (lines.length === 0 && (compat === 'none' || events.rejected === 0));
  return { type, version, compat, identical, reasons, lines, events, accepted };
}

/** The refusal for a report that is not accepted: exit 4, one line per reason. */
export function refusal(report: SchemaChangeReport): EvlogError {
  const { type, version, compat, events } = report;
  const details = [...report.lines];
  if (events.rejected > 0) {
    details.push(`${type} v${version}: rejects ${events.rejected} of ${events.checked} stored ${type} events:`);
    for (const { position, violations } of events.first) {
      for (const violation of violations) details.push(`  position ${position}: ${violation}`);
    }
  }
  const problems = [
    report.lines.length > 0 ? `is not ${compat} compatible` : undefined,
    events.rejected > 0 ? `rejects ${events.rejected} stored event${events.rejected === 1 ? '' : 's'}` : undefined,
  ].filter(Boolean);
  return new EvlogError('conflict', `${type} v${version} ${problems.join(' and ')}`, {
    details,
    hint:
      report.lines.length > 0
        ? `see "Schemas" in the README for what each mode allows; \`evlog schema compat ${type} <mode>\` changes the mode`
        : 'fix the schema, or the mode: under `none` stored events are reported but do not block',
  });
}

/**
 * Registers `document` as the type's next version if the type's mode (or `compat`, which
 * also becomes the type's mode) accepts it; a document equal to the latest is a no-op.
 * Throws a `conflict` EvlogError with one detail line per reason otherwise.
 *
 * @example const { version } = await registerSchema(store, 'OrderPlaced', { type: 'object' });
 */
export async function registerSchema(
  store: EventStore,
  type: string,
  document: JsonSchema,
  options: { compat?: CompatibilityMode } = {},
): Promise<SchemaChangeReport & { created: boolean }> {
  const report = await checkSchemaChange(store, type, document, options);
  if (!report.accepted) throw refusal(report);
  const { version, created } = await store.registerSchema(type, schemaDocumentJson(document), {
    expectedLatestVersion: report.identical ? report.version : report.version - 1,
    compat: options.compat,
  });
  if (!created && options.compat) await store.setCompatibilityMode(type, options.compat);
  return { ...report, version, created };
}
