/**
 * The dead-letter and consumer-group shapes of the store port (issue 5), as the inspector
 * reads them. They mirror src/store/types.ts of that issue until it lands here; then these
 * become re-exports of the store's own types.
 */

export type DeadLetterSource = 'consumer' | 'projection' | 'append';
export type DeadLetterReason = 'handler-failed' | 'timeout' | 'invalid' | 'projection-error';
export type DeadLetterStatus = 'parked' | 'redriven' | 'discarded';

export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  'handler-failed',
  'timeout',
  'invalid',
  'projection-error',
];
export const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = ['parked', 'redriven', 'discarded'];

export interface DeadLetter {
  id: number;
  source: DeadLetterSource;
  group: string;
  position: number | null;
  topic: string | null;
  type: string | null;
  line: string | null;
  reason: DeadLetterReason;
  error: string;
  attempts: number;
  status: DeadLetterStatus;
  firstFailedAt: number;
  lastFailedAt: number;
}

export interface DeadLetterHistoryEntry {
  at: number;
  action: 'redriven' | 'failed' | 'discarded';
  error: string | null;
  position: number | null;
}

export interface DeadLetterWithHistory extends DeadLetter {
  history: DeadLetterHistoryEntry[];
}

export interface DeadLetterFilter {
  ids?: readonly number[];
  group?: string;
  source?: DeadLetterSource;
  status?: DeadLetterStatus;
  type?: string;
  reason?: DeadLetterReason;
  since?: number;
  until?: number;
  text?: string;
}

export interface DeadLetterPage {
  limit: number;
  afterId?: number;
  beforeId?: number;
}

export interface ConsumerGroupSummary {
  name: string;
  topic: string;
  checkpoint: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  updatedAt: number;
  lag: number;
  parked: number;
}
