import type { EventFilter } from '../store/types.js';
import {
  DEAD_LETTER_REASONS,
  DEAD_LETTER_STATUSES,
  type DeadLetterFilter,
  type DeadLetterReason,
  type DeadLetterStatus,
} from '../store/types.js';

/** The words of a filter: `name:value` pairs and the rest, free text. */
function words(query: string): { pairs: [string, string][]; text: string } {
  const pairs: [string, string][] = [];
  const rest: string[] = [];
  for (const word of query.trim().split(/\s+/)) {
    if (word === '') continue;
    const match = /^([a-z]+):(.+)$/.exec(word);
    if (match) pairs.push([match[1] as string, match[2] as string]);
    else rest.push(word);
  }
  return { pairs, text: rest.join(' ') };
}

/** An events filter: what the store reads by, and what the inspector matches in the pages it reads. */
export interface EventQuery {
  filter: EventFilter;
  /** Case-insensitive text anywhere in the event (topic, key, type, data, metadata). */
  text?: string;
  /** Only events whose metadata.correlationId is this. */
  correlationId?: string;
}

/**
 * `topic:orders type:OrderPlaced key:order-17 corr:<id> any text`; topic and type may repeat.
 * A `name:value` word with a name it does not know is text.
 */
export function parseEventQuery(query: string): EventQuery {
  const { pairs, text } = words(query);
  const filter: EventFilter = {};
  let correlationId: string | undefined;
  const extra: string[] = [];
  for (const [name, value] of pairs) {
    if (name === 'topic') filter.topics = [...(filter.topics ?? []), value];
    else if (name === 'type') filter.types = [...(filter.types ?? []), value];
    else if (name === 'key') filter.key = value;
    else if (name === 'corr') correlationId = value;
    else extra.push(`${name}:${value}`);
  }
  const allText = [...extra, text].filter((part) => part !== '').join(' ');
  return {
    filter,
    ...(allText ? { text: allText } : {}),
    ...(correlationId ? { correlationId } : {}),
  };
}

/**
 * `group:g type:t reason:r status:s any text`. Without `status:`, the parked entries;
 * `status:all` shows every status.
 */
export function parseDeadLetterQuery(query: string): { filter: DeadLetterFilter; problem?: string } {
  const { pairs, text } = words(query);
  const filter: DeadLetterFilter = { status: 'parked' };
  const extra: string[] = [];
  let problem: string | undefined;
  for (const [name, value] of pairs) {
    if (name === 'group') filter.group = value;
    else if (name === 'type') filter.type = value;
    else if (name === 'reason') {
      if ((DEAD_LETTER_REASONS as readonly string[]).includes(value)) filter.reason = value as DeadLetterReason;
      else problem = `reason is one of ${DEAD_LETTER_REASONS.join(', ')}`;
    } else if (name === 'status') {
      if (value === 'all') delete filter.status;
      else if ((DEAD_LETTER_STATUSES as readonly string[]).includes(value)) filter.status = value as DeadLetterStatus;
      else problem = `status is one of ${DEAD_LETTER_STATUSES.join(', ')} or all`;
    } else extra.push(`${name}:${value}`);
  }
  const allText = [...extra, text].filter((part) => part !== '').join(' ');
  if (allText) filter.text = allText;
  return problem ? { filter, problem } : { filter };
}
