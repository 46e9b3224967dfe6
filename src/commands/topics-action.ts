import { printTable } from '../output/table.js';
import type { CommandRun } from './command-action.js';
import { wantsJson, withStore } from './context.js';

export const run: CommandRun = async (context, _args, _raw) => {
  const { io } = context;
  const topics = await withStore(context, { create: false }, (store) => store.listTopics());
  if (wantsJson(context)) {
    io.stdout.write(topics.map((t) => `${JSON.stringify(t)}\n`).join(''));
  } else if (topics.length === 0) {
    io.stderr.write('no topics yet: append an event with `evlog append <topic> <data> -t <type>`\n');
  } else {
    await printTable(
      io.stdout,
      ['TOPIC', 'EVENTS', 'STREAMS', 'LAST POSITION'],
      topics.map((t) => [t.topic, t.events, t.streams, t.lastPosition]),
    );
  }
};
