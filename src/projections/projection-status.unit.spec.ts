import { describe, expect, it } from 'vitest';
import type { ProjectionRecord } from '../store/types.js';
import type { ProjectionDefinition } from './define-projection.js';
import { describeProjection, HEARTBEAT_TIMEOUT_MS } from './projection-status.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const definition: ProjectionDefinition = { name: 'totals', version: 2, initialState: () => 0, evolve: (n) => n };
const record = (overrides: Partial<ProjectionRecord> = {}): ProjectionRecord => ({
  name: 'totals',
  version: 2,
  generation: 1,
  checkpoint: 40,
  status: 'idle',
  lastError: null,
  errorPosition: null,
  heartbeatAt: NOW - 1000,
  rebuild: null,
  keys: 3,
  ...overrides,
});

describe('describeProjection', () => {
  it('reports lag as head − checkpoint, and a projection never run as idle at 0', () => {
    expect(describeProjection('totals', definition, record(), 100, NOW)).toMatchObject({ lag: 60, status: 'idle' });
    expect(describeProjection('totals', definition, null, 100, NOW)).toMatchObject({
      checkpoint: 0,
      lag: 100,
      storedVersion: null,
      status: 'idle',
    });
  });

  it('is stale when the definition version differs from the read model', () => {
    expect(describeProjection('totals', definition, record({ version: 1 }), 40, NOW).status).toBe('stale');
  });

  it('shows running only while the runner reports in', () => {
    expect(describeProjection('totals', definition, record({ status: 'running' }), 40, NOW).status).toBe('running');
    const gone = record({ status: 'running', heartbeatAt: NOW - HEARTBEAT_TIMEOUT_MS - 1 });
    expect(describeProjection('totals', definition, gone, 40, NOW).status).toBe('idle');
  });

  it('shows the status before a run whose heartbeat expired: failed while its error is not passed', () => {
    const gone = NOW - HEARTBEAT_TIMEOUT_MS - 1;
    const failedRun = record({ status: 'running', heartbeatAt: gone, lastError: 'boom', errorPosition: 41 });
    expect(describeProjection('totals', definition, failedRun, 50, NOW).status).toBe('failed');
    const live = record({ status: 'running', lastError: 'boom', errorPosition: 41 });
    expect(describeProjection('totals', definition, live, 50, NOW).status).toBe('running');
  });

  it('shows rebuilding while a rebuild reports in, and the old status once it is gone', () => {
    const rebuild = { generation: 2, version: 2, checkpoint: 10, heartbeatAt: NOW - 500 };
    expect(describeProjection('totals', definition, record({ rebuild }), 40, NOW)).toMatchObject({
      status: 'rebuilding',
      rebuild: { checkpoint: 10 },
    });
    const killed = { ...rebuild, heartbeatAt: NOW - HEARTBEAT_TIMEOUT_MS - 1 };
    expect(
      describeProjection('totals', definition, record({ rebuild: killed, status: 'failed' }), 40, NOW),
    ).toMatchObject({
      status: 'failed',
      rebuild: null,
    });
  });

  it('carries the last error with its position', () => {
    const failed = record({ status: 'failed', lastError: 'boom', errorPosition: 41 });
    expect(describeProjection('totals', definition, failed, 50, NOW).lastError).toEqual({
      message: 'boom',
      position: 41,
    });
  });
});
