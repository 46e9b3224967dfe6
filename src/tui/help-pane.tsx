import { Box, Text } from 'ink';
import { clip } from './format.js';

/** Every key of the inspector (DESIGN.md, "Inspector keys"), as `?` shows them. */
export function helpLines(readonly: boolean): string[] {
  const off = readonly ? '  (off: --readonly)' : '';
  return [
    'Keys',
    '  1-5, Tab, Shift-Tab  views: Dead letters, Events, Projections, Consumers, Schemas',
    '  ↑/↓ or j/k           move              PgUp/PgDn  page     Home/End  first/last',
    '  Enter                open the detail pane          Esc  close it',
    '  /                    filter the list (Esc clears the filter)',
    '  space, a             select the entry; select all that the filter shows',
    `  r                    redrive the selection or the entry (y/n if more than one)${off}`,
    `  d                    discard the selection or the entry (y/n if more than one)${off}`,
    '  p                    pretty / raw JSON in detail panes',
    '  f                    follow new events live (Events)',
    '  g                    go to a position, a time or a duration ago (Events)',
    '  c                    every event sharing the correlation id (Events)',
    `  R                    rebuild the projection under the cursor (Projections)${off}`,
    '  Enter                a consumer group: its dead letters (Consumers)',
    '  ←/→                  compare earlier / later schema versions (Schemas)',
    '  ?                    this help                     q, Ctrl-C  quit',
    'Filters',
    '  Dead letters  group:g type:t reason:r status:parked|redriven|discarded|all text',
    '  Events        topic:t type:t key:k corr:<correlation id> text',
  ];
}

export function HelpPane({ width, height, readonly }: { width: number; height: number; readonly: boolean }) {
  const lines = helpLines(readonly);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.slice(0, height).map((line) => (
        <Text key={line} bold={!line.startsWith(' ')}>
          {clip(line, width)}
        </Text>
      ))}
    </Box>
  );
}
