import { Box, Text } from 'ink';
import { useCallback, useState } from 'react';
import type { ConsumerGroupSummary } from '../../store/types.js';
import { age, clip, count } from '../format.js';
import { useColor, useInspector, useViewMode } from '../inspector-context.js';
import { useKeys } from '../keyboard.js';
import { movement } from '../keys.js';
import { ListLines } from '../list-lines.js';
import { useStoreRead } from '../use-store-read.js';

function groupLine(group: ConsumerGroupSummary, now: number, width: number): string {
  const lease =
    group.leaseOwner && group.leaseExpiresAt !== null && group.leaseExpiresAt > now
      ? `held by ${group.leaseOwner}`
      : `idle ${age(group.updatedAt, now)}`;
  return `${clip(group.name, 22)} ${clip(group.topic, 16)} ${count(group.checkpoint).padStart(11)} ${count(
    group.lag,
  ).padStart(11)} ${count(group.parked).padStart(8)}  ${lease}`.slice(0, width);
}

/** Consumer groups with topic, checkpoint, lag and parked entries; Enter shows a group's dead letters. */
export function ConsumersView({ active, width, height }: { active: boolean; width: number; height: number }) {
  const { data, commits, now, show } = useInspector();
  const color = useColor();
  const [cursor, setCursor] = useState(0);
  const read = useCallback(() => data.listConsumerGroups(), [data]);
  const { value: groups, error } = useStoreRead(read, commits);

  const list = groups ?? [];
  const current = list[Math.min(cursor, list.length - 1)];
  useViewMode('consumers', 'Enter its dead letters', false);

  useKeys(
    (input, key) => {
      const move = movement(input, key, height - 4);
      if (move !== null) {
        const last = Math.max(0, list.length - 1);
        setCursor((c) => (move === 'start' ? 0 : move === 'end' ? last : Math.max(0, Math.min(last, c + move))));
      } else if (key.return && current) show('dead-letters', `group:${current.name}`);
    },
    { isActive: active },
  );

  const listHeight = height - 1;
  const top = Math.max(0, cursor - (listHeight - 2));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text color={error ? color('red') : color('cyan')}>
        {clip(
          error ? `error: ${error}` : `${list.length} consumer groups · lag = events of the topic after the checkpoint`,
          width,
        )}
      </Text>
      <ListLines
        header={`${'GROUP'.padEnd(22)} ${'TOPIC'.padEnd(16)}  CHECKPOINT         LAG   PARKED  LEASE`}
        lines={list.slice(top, top + listHeight - 1).map((group) => ({
          key: group.name,
          text: groupLine(group, now(), width - 3),
          color: group.parked > 0 ? 'yellow' : undefined,
        }))}
        cursor={cursor - top}
        width={width}
        height={listHeight}
        empty={
          groups === null
            ? 'reading…'
            : 'no consumer groups: start one with `evlog consume <group> --topic <t> --exec <cmd>`'
        }
      />
    </Box>
  );
}
