import { diffLines } from 'diff';
import { Box, Text } from 'ink';
import { useCallback, useState } from 'react';
import { canonicalJson } from '../../projections/canonical-json.js';
import { describeChange, diffSchemas, INCOMPATIBLE, type JsonSchema } from '../../schema/compatibility.js';
import type { SchemaTypeSummary, StoredSchema } from '../../store/types.js';
import { clip, shortTime } from '../format.js';
import { errorText, useColor, useInspector, useViewMode } from '../inspector-context.js';
import { useKeys } from '../keyboard.js';
import { movement } from '../keys.js';
import { ListLines } from '../list-lines.js';
import { ScrollPane } from '../scroll-pane.js';
import { useStoreRead } from '../use-store-read.js';

function parse(schema: StoredSchema): JsonSchema {
  return JSON.parse(schema.documentJson) as JsonSchema;
}

/**
 * What changed from `older` to `newer`: whether each can read the other's data (the
 * compatibility rules of `schema check`), then the documents' lines that differ.
 */
export function schemaDifference(older: StoredSchema, newer: StoredSchema): string {
  const oldDocument = parse(older);
  const newDocument = parse(newer);
  const backward = diffSchemas(oldDocument, newDocument).filter((change) => INCOMPATIBLE.has(change.kind));
  const forward = diffSchemas(newDocument, oldDocument).filter((change) => INCOMPATIBLE.has(change.kind));
  const lines = [
    `v${older.version} → v${newer.version}`,
    backward.length === 0
      ? `  backward: ok, v${newer.version} reads data written with v${older.version}`
      : `  backward: breaks, v${newer.version} cannot read all data written with v${older.version}:`,
    ...backward.map((change) => `    ${describeChange(change, 'backward')}`),
    forward.length === 0
      ? `  forward:  ok, v${older.version} reads data written with v${newer.version}`
      : `  forward:  breaks, v${older.version} cannot read all data written with v${newer.version}:`,
    ...forward.map((change) => `    ${describeChange(change, 'forward')}`),
    '',
    `lines (keys sorted): - only in v${older.version}, + only in v${newer.version}`,
  ];
  const parts = diffLines(canonicalJson(oldDocument, 2), canonicalJson(newDocument, 2));
  for (const part of parts) {
    const mark = part.added ? '+ ' : part.removed ? '- ' : '  ';
    const partLines = part.value.replace(/\n$/, '').split('\n');
    // Unchanged stretches keep a line of context each side.
    if (!part.added && !part.removed && partLines.length > 4) {
      lines.push(`  ${partLines[0]}`, `  … ${partLines.length - 2} unchanged lines`, `  ${partLines.at(-1)}`);
    } else lines.push(...partLines.map((line) => mark + line));
  }
  return lines.join('\n');
}

function typeLine(summary: SchemaTypeSummary, width: number): string {
  return `${clip(summary.type, 30)} ${String(summary.latestVersion).padStart(6)}  ${clip(summary.versions.join(', '), 16)} ${summary.compat}`.slice(
    0,
    width,
  );
}

/** Event types with their schema versions and compatibility modes; Enter compares two versions. */
export function SchemasView({ active, width, height }: { active: boolean; width: number; height: number }) {
  const { data, commits } = useInspector();
  const color = useColor();
  const [cursor, setCursor] = useState(0);
  const [detail, setDetail] = useState<{ type: string; versions: StoredSchema[]; newer: number } | null>(null);
  const [pretty, setPretty] = useState(true);

  const read = useCallback(() => data.listSchemaTypes(), [data]);
  const { value: types, error, setError } = useStoreRead(read, commits);

  const list = types ?? [];
  const current = list[Math.min(cursor, list.length - 1)];

  async function open(type: string) {
    try {
      const versions = await data.readSchemas(type);
      if (versions.length === 0) {
        setError(`${type} has a compatibility mode but no schema yet`);
        return;
      }
      setDetail({ type, versions, newer: versions.length - 1 });
    } catch (failure) {
      setError(errorText(failure));
    }
  }

  useViewMode(
    'schemas',
    detail ? 'Esc back  ←/→ earlier/later versions  ↑↓ scroll  p pretty/raw' : 'Enter versions and differences',
    false,
  );

  useKeys(
    (input, key) => {
      if (detail) {
        if (key.escape) setDetail(null);
        else if (input === 'p') setPretty((p) => !p);
        else if (key.leftArrow || input === 'h') setDetail({ ...detail, newer: Math.max(0, detail.newer - 1) });
        else if (key.rightArrow || input === 'l') {
          setDetail({ ...detail, newer: Math.min(detail.versions.length - 1, detail.newer + 1) });
        }
        return;
      }
      const move = movement(input, key, height - 4);
      if (move !== null) {
        const last = Math.max(0, list.length - 1);
        setCursor((c) => (move === 'start' ? 0 : move === 'end' ? last : Math.max(0, Math.min(last, c + move))));
      } else if (key.return && current) void open(current.type);
    },
    { isActive: active },
  );

  if (detail) {
    const newer = detail.versions[detail.newer] as StoredSchema;
    const older = detail.versions[detail.newer - 1];
    const summary = list.find((t) => t.type === detail.type);
    const text = [
      `compatibility mode ${summary?.compat ?? '?'} · versions ${detail.versions.map((v) => v.version).join(', ')}`,
      older ? schemaDifference(older, newer) : `v${newer.version} is the first version: nothing to compare`,
      '',
      `v${newer.version}, registered ${shortTime(newer.registeredAt)} UTC${pretty ? '' : ' (raw)'}`,
      pretty ? canonicalJson(parse(newer), 2) : newer.documentJson,
    ].join('\n');
    return (
      <ScrollPane
        title={`schema ${detail.type} v${older ? `${older.version} → v` : ''}${newer.version}`}
        text={text}
        width={width}
        height={height}
        active={active}
      />
    );
  }

  const listHeight = height - 1;
  const top = Math.max(0, cursor - (listHeight - 2));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={error ? color('red') : color('cyan')}>
        {clip(
          error ? `error: ${error}` : `${list.length} event type${list.length === 1 ? '' : 's'} with schemas`,
          width,
        )}
      </Text>
      <ListLines
        header={`${'TYPE'.padEnd(30)} LATEST  ${'VERSIONS'.padEnd(16)} COMPATIBILITY`}
        lines={list.slice(top, top + listHeight - 1).map((summary) => ({
          key: summary.type,
          text: typeLine(summary, width - 3),
        }))}
        cursor={cursor - top}
        width={width}
        height={listHeight}
        empty={types === null ? 'reading…' : 'no schemas: register one with `evlog schema register <type> <file>`'}
      />
    </Box>
  );
}
