import type { StoreStats } from '../store/index.js';
import type { CommandRun } from './command-action.js';
import { wantsJson, withStore } from './context.js';

function statsJson(stats: StoreStats) {
  return {
    ...stats,
    firstTime: stats.firstTime === null ? null : new Date(stats.firstTime).toISOString(),
    lastTime: stats.lastTime === null ? null : new Date(stats.lastTime).toISOString(),
  };
}

function formatStats(stats: StoreStats): string {
  const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  const perEvent = stats.events > 0 ? ` (${Math.round(stats.sizeBytes / stats.events)} bytes per event)` : '';
  const rows: [string, string | number][] = [
    ['store', stats.path],
    ['events', stats.events],
    ['head position', stats.headPosition],
    ['topics', stats.topics],
    ['streams', stats.streams],
    ['event types', stats.types],
    ['first event', time(stats.firstTime)],
    ['last event', time(stats.lastTime)],
    ['size', `${formatBytes(stats.sizeBytes)}${perEvent}`],
    ['groups', stats.consumerGroups],
    ['dead letters', `${stats.parkedDeadLetters} parked`],
    ['store schema', stats.schemaVersion],
  ];
  return rows.map(([name, value]) => `${`${name}:`.padEnd(15)}${value}\n`).join('');
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export const run: CommandRun = async (context, _args, _raw) => {
  const { io } = context;
  const stats = await withStore(context, { create: false }, (store) => store.stats());
  io.stdout.write(wantsJson(context) ? `${JSON.stringify(statsJson(stats))}\n` : formatStats(stats));
};
