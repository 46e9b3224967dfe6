import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';
import { parseJson } from '../input/parse-json.js';
import { readAllText } from '../input/read-lines.js';
import { printTable } from '../output/table.js';
import type { JsonSchema } from '../schema/compatibility.js';
import { checkSchemaChange, refusal, registerSchema, type SchemaChangeReport } from '../schema/register-schema.js';
import { STRICT_SETTING } from '../schema/schema-guard.js';
import { COMPATIBILITY_MODES, type CompatibilityMode, type EventStore } from '../store/index.js';
import type { CommandRun } from './command-action.js';
import { type CommandContext, wantsJson, withStore } from './context.js';
import { parseOptions } from './parse-options.js';

const modeSchema = z.optional(z.enum(COMPATIBILITY_MODES as [CompatibilityMode, ...CompatibilityMode[]]));

async function readSchemaFile(context: CommandContext, file: string): Promise<JsonSchema> {
  let text: string;
  try {
    text = file === '-' ? await readAllText(context.io.stdin) : readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new EvlogError(
      code === 'ENOENT' ? 'not_found' : 'failure',
      `cannot read the schema file ${file}: ${code ?? error}`,
    );
  }
  const document = parseJson(text, `the schema file ${file}`);
  if (typeof document !== 'boolean' && (document === null || typeof document !== 'object' || Array.isArray(document))) {
    throw new EvlogError('invalid', `${file} is not a JSON Schema: it must be a JSON object (or true/false)`);
  }
  return document as JsonSchema;
}

function reportJson(report: SchemaChangeReport) {
  return {
    type: report.type,
    version: report.version,
    compat: report.compat,
    accepted: report.accepted,
    identical: report.identical,
    reasons: report.lines,
    events: report.events,
  };
}

function eventsLine(report: SchemaChangeReport): string {
  const { checked, rejected } = report.events;
  return `stored ${report.type} events: ${checked} checked, ${rejected} rejected`;
}

export const register: CommandRun = async (context, args, raw) => {
  const [type, file] = args as [string, string];
  const options = parseOptions(z.object({ compat: modeSchema }), raw);
  const document = await readSchemaFile(context, file);
  const result = await withStore(context, { create: true }, (store) =>
    registerSchema(store, type, document, { compat: options.compat }),
  );
  const { io } = context;
  if (wantsJson(context)) {
    io.stdout.write(`${JSON.stringify({ type, version: result.version, compat: result.compat })}\n`);
    return;
  }
  io.stdout.write(`${result.version}\n`);
  if (context.globals.quiet) return;
  if (!result.created) {
    io.stderr.write(`${type}: the schema is identical to version ${result.version}; nothing registered\n`);
  } else {
    io.stderr.write(`registered ${type} v${result.version} (${result.compat}); ${eventsLine(result)}\n`);
    for (const { position, violations } of result.events.first) {
      io.stderr.write(`  warning: position ${position}: ${violations[0]}\n`);
    }
  }
};

export const check: CommandRun = async (context, args, raw) => {
  const [type, file] = args as [string, string];
  const options = parseOptions(z.object({ compat: modeSchema }), raw);
  const document = await readSchemaFile(context, file);
  const report = await withStore(context, { create: false }, (store) =>
    checkSchemaChange(store, type, document, { compat: options.compat }),
  );
  const { io } = context;
  if (wantsJson(context)) io.stdout.write(`${JSON.stringify(reportJson(report))}\n`);
  if (!report.accepted) throw refusal(report);
  if (wantsJson(context)) return;
  const verdict = report.identical
    ? `${type}: identical to version ${report.version}; registering it would change nothing`
    : `${type} v${report.version} would be accepted (${report.compat})`;
  io.stdout.write(`${verdict}\n${eventsLine(report)}\n`);
  for (const { position, violations } of report.events.first) {
    for (const violation of violations) io.stdout.write(`  position ${position}: ${violation}\n`);
  }
};

export const list: CommandRun = async (context) => {
  const { io } = context;
  const types = await withStore(context, { create: false }, (store) => store.listSchemaTypes());
  if (wantsJson(context)) {
    io.stdout.write(types.map((t) => `${JSON.stringify(t)}\n`).join(''));
  } else if (types.length === 0) {
    io.stderr.write('no schemas yet: register one with `evlog schema register <type> <schema.json>`\n');
  } else {
    await printTable(
      io.stdout,
      ['TYPE', 'LATEST', 'VERSIONS', 'COMPAT'],
      types.map((t) => [t.type, t.latestVersion || '-', t.versions.join(',') || '-', t.compat]),
    );
  }
};

const versionNumber = z.optional(
  z.coerce.number().check(z.int('must be a whole number'), z.positive('must be 1 or more')),
);
const showOptions = z.object({ version: versionNumber, schemaVersion: versionNumber });

export const show: CommandRun = async (context, args, raw) => {
  const [type] = args as [string];
  const parsed = parseOptions(showOptions, raw, { schemaVersion: '--version' });
  const options = { version: parsed.schemaVersion ?? parsed.version };
  const schema = await withStore(context, { create: false }, async (store) => {
    const found = await store.readSchema(type, options.version);
    if (found) return found;
    throw await missingSchema(store, type, options.version);
  });
  const document = JSON.parse(schema.documentJson) as unknown;
  context.io.stdout.write(`${wantsJson(context) ? JSON.stringify(document) : JSON.stringify(document, null, 2)}\n`);
};

async function missingSchema(store: EventStore, type: string, version: number | undefined): Promise<EvlogError> {
  const versions = (await store.readSchemas(type)).map((s) => s.version);
  if (versions.length === 0) {
    return new EvlogError('not_found', `no schema for ${type} in ${store.path}`, {
      hint: 'list the types with schemas with `evlog schema list`',
    });
  }
  return new EvlogError('not_found', `${type} has no schema version ${version}`, {
    hint: `its versions: ${versions.join(', ')}`,
  });
}

export const compat: CommandRun = async (context, args) => {
  const [type, mode] = args as [string, CompatibilityMode | undefined];
  const { io } = context;
  const current = await withStore(context, { create: mode !== undefined }, async (store) => {
    if (mode !== undefined) await store.setCompatibilityMode(type, mode);
    return store.compatibilityMode(type);
  });
  if (wantsJson(context)) io.stdout.write(`${JSON.stringify({ type, compat: current })}\n`);
  else if (mode === undefined) io.stdout.write(`${current}\n`);
  else if (!context.globals.quiet) io.stdout.write(`${type}: compatibility mode set to ${current}\n`);
};

export const strict: CommandRun = async (context, args) => {
  const [setting] = args as ['on' | 'off' | undefined];
  const { io } = context;
  const current = await withStore(context, { create: setting !== undefined }, async (store) => {
    if (setting !== undefined) await store.writeSetting(STRICT_SETTING, setting === 'on' ? 'on' : null);
    return (await store.readSetting(STRICT_SETTING)) === 'on' ? 'on' : 'off';
  });
  if (wantsJson(context)) io.stdout.write(`${JSON.stringify({ strict: current === 'on' })}\n`);
  else if (setting === undefined || !context.globals.quiet) {
    io.stdout.write(
      setting === undefined
        ? `${current}\n`
        : `strict ${current}: ${current === 'on' ? 'event types without a schema are refused' : 'event types without a schema are accepted'}\n`,
    );
  }
};
