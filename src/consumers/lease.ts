import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { EventStore } from '../store/index.js';

/** How long a lease lasts unless renewed; its holder renews it three times per period. */
export const DEFAULT_LEASE_TTL_MS = 15_000;

/**
 * Where a pid means this process table: the boot and the pid namespace (Linux). Two
 * containers can share a host name while their pids mean different processes; a holder is
 * judged dead by its pid only when this matches. Empty where it cannot be told: such a
 * holder is waited for until its lease expires.
 */
function processTableId(): string {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim().slice(0, 8);
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    return namespace ? `${boot}-${namespace}` : '';
  } catch {
    return '';
  }
}

let tableId: string | undefined;

/** This process's name as a lease holder: host, pid, a random part for each run, and its process table. */
export function leaseOwnerId(): string {
  tableId ??= processTableId();
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}:${tableId}`;
}

/**
 * True when the holder is a process of this machine's process table (same host name, boot
 * and pid namespace) that no longer exists: its lease can be taken over at once instead of
 * waiting for it to expire (a consumer killed with SIGKILL).
 */
export function holderIsDead(holder: string): boolean {
  const [host, pidText, , table] = holder.split(':');
  const pid = Number(pidText);
  tableId ??= processTableId();
  if (host !== hostname() || !table || table !== tableId || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Who holds a lease, for messages: "pid 4242 on host-a". */
export function describeHolder(holder: string): string {
  const [host, pid] = holder.split(':');
  return `pid ${pid} on ${host}`;
}

export type LeaseAttempt = { acquired: true } | { acquired: false; holder: string; expiresAt: number };

/** Tries once to take the group's lease, taking it over from a holder that is known dead. */
export async function tryAcquireLease(
  store: EventStore,
  group: string,
  owner: string,
  ttlMs: number,
): Promise<LeaseAttempt> {
  const first = await store.acquireGroupLease(group, owner, ttlMs);
  if (first.acquired) return { acquired: true };
  if (!holderIsDead(first.holder)) return first;
  const second = await store.acquireGroupLease(group, owner, ttlMs, first.holder);
  return second.acquired ? { acquired: true } : second;
}

/**
 * Renews the lease every third of its life while work runs (a slow handler must not lose
 * it). `lost()` tells when a renewal found the lease gone: another process took it over.
 */
export function keepLease(store: EventStore, group: string, owner: string, ttlMs: number) {
  let lost = false;
  const timer = setInterval(
    () => {
      store.renewGroupLease(group, owner, ttlMs).then(
        (renewed) => {
          if (!renewed) lost = true;
        },
        () => {
          // A busy store: the next renewal tries again, well before the lease ends.
        },
      );
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  return {
    lost: () => lost,
    stop: () => clearInterval(timer),
  };
}
