import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { clip, wrapLines } from './format.js';
import { useKeys } from './keyboard.js';
import { movement } from './keys.js';

/**
 * A detail pane: text wrapped to the width, scrolled with ↑/↓ j/k PgUp/PgDn Home/End
 * while `active`. Its first line (a title) stays in place.
 */
export function ScrollPane({
  title,
  text,
  width,
  height,
  active,
}: {
  title: string;
  text: string;
  width: number;
  height: number;
  active: boolean;
}) {
  const [offset, setOffset] = useState(0);
  const lines = wrapLines(text, width - 2);
  const rows = Math.max(1, height - 1);
  const maxOffset = Math.max(0, lines.length - rows);
  // New content (another entry) starts at its top.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the title names the content
  useEffect(() => setOffset(0), [title]);
  useKeys(
    (input, key) => {
      const move = movement(input, key, rows - 1);
      if (move === null) return;
      setOffset((current) => {
        const next = move === 'start' ? 0 : move === 'end' ? maxOffset : current + move;
        return Math.max(0, Math.min(maxOffset, next));
      });
    },
    { isActive: active },
  );
  const start = Math.min(offset, maxOffset);
  const more = lines.length > start + rows ? ` (${start + rows}/${lines.length} lines, ↓ for more)` : '';
  return (
    <Box flexDirection="column" height={height} width={width}>
      <Text bold>{clip(`${title}${more}`, width)}</Text>
      {lines.slice(start, start + rows).map((line, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: lines are positional
        <Text key={index}>{clip(` ${line}`, width)}</Text>
      ))}
    </Box>
  );
}
