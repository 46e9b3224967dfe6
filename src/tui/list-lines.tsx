import { Box, Text } from 'ink';
import { clip } from './format.js';
import { useColor } from './inspector-context.js';

export interface ListLine {
  key: string | number;
  text: string;
  /** A colour for the whole line (e.g. red for a failure), when colours are on. */
  color?: string;
  dim?: boolean;
  selected?: boolean;
}

/**
 * A list's rows on screen: the cursor's row marked `›` and in inverse, selected rows marked `●`,
 * always exactly `height` lines so the layout never jumps.
 */
export function ListLines({
  header,
  lines,
  cursor,
  width,
  height,
  empty,
}: {
  header?: string;
  lines: readonly ListLine[];
  cursor: number;
  width: number;
  height: number;
  empty?: string;
}) {
  const color = useColor();
  const rows = height - (header === undefined ? 0 : 1);
  const shown = lines.slice(0, rows);
  return (
    <Box flexDirection="column" height={height} width={width}>
      {header !== undefined && <Text bold>{clip(`   ${header}`, width)}</Text>}
      {shown.length === 0 && empty !== undefined ? <Text dimColor>{clip(`   ${empty}`, width)}</Text> : null}
      {shown.map((line, index) => (
        <Text
          key={line.key}
          inverse={index === cursor}
          color={line.color ? color(line.color) : undefined}
          dimColor={line.dim && index !== cursor}
        >
          {clip(`${index === cursor ? '›' : ' '}${line.selected ? '●' : ' '} ${line.text}`, width)}
        </Text>
      ))}
    </Box>
  );
}
