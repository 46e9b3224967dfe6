import { Command } from 'commander';
import { setAction } from './command-action.js';
import type { CommandIo } from './context.js';

export function consumeCommand(io: CommandIo): Command {
  const command = new Command('consume')
    .description("deliver a topic's events to a handler, in order, at least once; dead-letter what keeps failing")
    .argument('<group>', 'the consumer group: its checkpoint, handler and lease live in the store')
    .option('--topic <t>', 'the topic to consume (remembered by the group)')
    .option('--exec <cmd>', 'a shell command run per event: the event as one JSON line on stdin, EVLOG_* variables')
    .option('--handler <module>', 'a JS module whose default export is async (event, context) => …')
    .option('--max-attempts <n>', 'deliveries per event before it is dead-lettered (default 5)')
    .option('--backoff <ms>', 'pause before the first retry, doubled for each next one, at most 60s (default 200ms)')
    .option('--timeout <ms>', 'how long one attempt may take (default 30s)')
    .option('-f, --follow', 'keep consuming as events arrive (Ctrl-C stops after the event in flight)')
    .option('--limit <n>', 'stop after n events were done with (succeeded or dead-lettered)')
    .option(
      '--checkpoint-every <n>',
      'move the checkpoint every n events, not after each: faster, but a crash redelivers up to n',
    )
    .addHelpText(
      'after',
      `
A group remembers its topic, handler and settings in the store: later runs need only the
group's name. A config file (evlog.config.mjs) can declare groups too:
  consumers: [{ name: 'mailer', topic: 'orders', exec: './send-mail.sh', maxAttempts: 3 }]
The command line wins over the config, and the config over what the group last ran with.

--exec: exit 0 is success; any other exit, or running past --timeout, is a failure, and the
end of the command's stderr becomes the error text. Its variables: EVLOG_GROUP, EVLOG_ATTEMPT,
EVLOG_POSITION, EVLOG_ID, EVLOG_TOPIC, EVLOG_KEY, EVLOG_TYPE, EVLOG_VERSION, EVLOG_TIME.
Handlers' output goes to stderr; stdout carries evlog's summary.

The checkpoint moves after each event that succeeded or was dead-lettered: a crash delivers
at most the event in flight again. That costs a store write per event (about 40k events/s
at best); --checkpoint-every 1000 trades it for speed: a crash delivers up to 1000 again. One process at a time delivers to a group (a lease);
another one waits with --follow and takes over when the first stops or dies.

Examples:
  $ evlog consume mailer --topic orders --exec 'jq -c .data >> mails.ndjson'
  $ evlog consume mailer -f                          again, following new events
  $ evlog consume billing --topic payments --handler ./billing.mjs --max-attempts 3 --backoff 1s
  $ evlog dlq list --group mailer                    what it gave up on`,
    );
  return setAction(command, io, () => import('./consume-action.js'));
}
