import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { describeHolder, holderIsDead, leaseOwnerId } from './lease.js';

describe('lease holders', () => {
  const [host, pid, , table] = leaseOwnerId().split(':');

  it('are named by host, pid, run and process table', () => {
    expect(host).toBe(hostname());
    expect(Number(pid)).toBe(process.pid);
    expect(leaseOwnerId()).not.toBe(leaseOwnerId());
    expect(describeHolder(leaseOwnerId())).toBe(`pid ${process.pid} on ${hostname()}`);
  });

  it('are dead when their pid is gone from this very process table', () => {
    expect(table).toMatch(/^[0-9a-f]{8}-\d+$/);
    expect(holderIsDead(`${host}:99999999:run:${table}`)).toBe(true);
    expect(holderIsDead(`${host}:${process.pid}:run:${table}`)).toBe(false);
    expect(holderIsDead(`${host}:1:run:${table}`)).toBe(false);
  });

  it('are never judged by pid in another process table, on another host, or unknown', () => {
    // Another container with the same host name: its pids are not ours to check.
    expect(holderIsDead(`${host}:99999999:run:deadbeef-1`)).toBe(false);
    expect(holderIsDead(`${host}:99999999:run:`)).toBe(false);
    expect(holderIsDead(`${host}:99999999:run`)).toBe(false);
    expect(holderIsDead(`elsewhere:99999999:run:${table}`)).toBe(false);
  });
});
