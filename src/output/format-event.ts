import type { ChalkInstance } from 'chalk';
import { EvlogError } from '../errors.js';
import { type EventRecord, formatStreamName, type JsonObject } from '../store/index.js';

/** Turns one stored event into one line of output. */
export type EventFormatter = (record: EventRecord) => string;

let cachedSecond = Number.NaN;
let cachedPrefix = '';

/**
 * ISO-8601 UTC with milliseconds, as Date#toISOString writes it. Events come in time order,
 * so the text up to the second is cached: this runs once per event on every read.
 */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, -4);
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

/**
 * The event envelope of DESIGN.md ("Output"), built from the stored JSON text without
 * parsing it again: this is what makes `tail --json` and `export` fast.
 */
export function formatEventJson(record: EventRecord): string {
  return `{"position":${record.position},"id":${JSON.stringify(record.id)},"topic":${JSON.stringify(record.topic)},"key":${
    record.key === null ? 'null' : JSON.stringify(record.key)
  },"version":${record.version},"type":${JSON.stringify(record.type)},"schemaVersion":${record.schemaVersion ?? 'null'},"time":"${isoTime(
    record.time,
  )}","data":${record.dataJson},"metadata":${record.metadataJson}}`;
}

/**
 * A CloudEvents 1.0 structured-mode JSON event. evlog's own fields travel as extension
 * attributes (lower-case, as the spec requires), so an export imports back exactly.
 */
export function formatCloudEvent(record: EventRecord): string {
  const metadata = record.metadataJson;
  const source = sourceOf(metadata) ?? `evlog:/${record.topic}`;
  return `{"specversion":"1.0","id":${JSON.stringify(record.id)},"source":${JSON.stringify(source)},"type":${JSON.stringify(
    record.type,
  )},${record.key === null ? '' : `"subject":${JSON.stringify(record.key)},`}"time":"${isoTime(
    record.time,
  )}","datacontenttype":"application/json","data":${record.dataJson},"evlogtopic":${JSON.stringify(record.topic)},"evlogposition":${
    record.position
  },"evlogversion":${record.version}${record.schemaVersion === null ? '' : `,"evlogschemaversion":${record.schemaVersion}`}${
    metadata === '{}' ? '' : `,"evlogmetadata":${JSON.stringify(metadata)}`
  }}`;
}

function sourceOf(metadataJson: string): string | undefined {
  if (!metadataJson.includes('"source"')) return undefined;
  const source = (JSON.parse(metadataJson) as JsonObject).source;
  return typeof source === 'string' && source !== '' ? source : undefined;
}

/** One line per event for people: position, time, stream and version, type, data. */
export function createPrettyFormatter(colors: ChalkInstance): EventFormatter {
  return (record) =>
    `${colors.dim(`#${record.position}`)} ${colors.dim(isoTime(record.time))} ${colors.cyan(
      formatStreamName(record.topic, record.key),
    )}${colors.dim(`@${record.version}`)} ${colors.bold.yellow(record.type)} ${record.dataJson}${
      record.metadataJson === '{}' ? '' : colors.dim(` ${record.metadataJson}`)
    }`;
}

const TEMPLATE_FIELDS = new Set([
  'position',
  'id',
  'topic',
  'key',
  'stream',
  'version',
  'type',
  'schemaVersion',
  'time',
  'data',
  'metadata',
]);

/**
 * A template such as '{position} {type} {data.total}': fields of the envelope, and paths into
 * data and metadata. `\t` and `\n` stand for a tab and a newline; a missing value prints as nothing.
 */
export function createTemplateFormatter(template: string): EventFormatter {
  const parts: (string | string[])[] = [];
  const pattern = /\{([^{}]+)\}/g;
  let last = 0;
  let needsParse = false;
  for (const match of template.matchAll(pattern)) {
    parts.push(expandEscapes(template.slice(last, match.index)));
    const path = (match[1] as string).trim().split('.');
    const field = path[0] as string;
    if (!TEMPLATE_FIELDS.has(field)) {
      throw new EvlogError('usage', `unknown field "{${match[1]}}" in the output template`, {
        hint: `use ${[...TEMPLATE_FIELDS].map((f) => `{${f}}`).join(' ')}, or a path such as {data.customer.id}`,
      });
    }
    needsParse ||= field === 'data' || field === 'metadata';
    parts.push(path);
    last = match.index + match[0].length;
  }
  parts.push(expandEscapes(template.slice(last)));
  return (record) => {
    const data = needsParse ? (JSON.parse(record.dataJson) as unknown) : undefined;
    const metadata = needsParse ? (JSON.parse(record.metadataJson) as unknown) : undefined;
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const [field, ...rest] = part as [string, ...string[]];
      let value: unknown;
      if (field === 'data') value = dig(data, rest);
      else if (field === 'metadata') value = dig(metadata, rest);
      else if (field === 'stream') value = formatStreamName(record.topic, record.key);
      else if (field === 'time') value = isoTime(record.time);
      else value = record[field as keyof EventRecord];
      out +=
        value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
    return out;
  };
}

function dig(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

function expandEscapes(text: string): string {
  return text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** The formatter for `-o <fmt>`: pretty | json | cloudevents | a template. */
export function createEventFormatter(format: string, colors: ChalkInstance): EventFormatter {
  if (format === 'json' || format === 'ndjson') return formatEventJson;
  if (format === 'cloudevents') return formatCloudEvent;
  if (format === 'pretty') return createPrettyFormatter(colors);
  if (format.includes('{')) return createTemplateFormatter(format);
  throw new EvlogError('usage', `unknown output format "${format}"`, {
    hint: "use pretty, json, cloudevents, or a template such as '{position} {type} {data.total}'",
  });
}
