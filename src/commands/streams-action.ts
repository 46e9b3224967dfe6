import { printTable } from '../output/table.js';
import type { CommandRun } from './command-action.js';
import { wantsJson, withStore } from './context.js';

export const run: CommandRun = async (context, args, _raw) => {
  const { io } = context;
  const topic = args[0] as string;
  const streams = await withStore(context, { create: false }, (store) => store.listStreams(topic));
  if (wantsJson(context)) {
    io.stdout.write(streams.map((s) => `${JSON.stringify(s)}\n`).join(''));
  } else {
    await printTable(
      io.stdout,
      ['STREAM', 'VERSION', 'LAST POSITION'],
      streams.map((s) => [s.stream, s.version, s.lastPosition]),
    );
  }
};
