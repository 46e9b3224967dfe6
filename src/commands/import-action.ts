import * as z from 'zod/mini';
import { appendBatchInput } from './batch-input.js';
import type { CommandRun } from './command-action.js';
import { wantsJson } from './context.js';
import { parseOptions } from './parse-options.js';

const optionsSchema = z.object({
  topic: z.optional(z.string()),
  onInvalid: z._default(z.enum(['abort', 'skip']), 'abort'),
});

export const run: CommandRun = async (context, args, raw) => {
  const { io } = context;
  const options = parseOptions(optionsSchema, raw);
  const { results, skipped } = await appendBatchInput(context, {
    source: args[0] as string,
    defaults: { topic: options.topic },
    onInvalid: options.onInvalid,
    keepTime: true,
    progressLabel: 'importing',
  });
  const imported = results.filter((r) => !r.duplicate).length;
  const summary = { imported, duplicates: results.length - imported, skipped };
  if (wantsJson(context)) io.stdout.write(`${JSON.stringify(summary)}\n`);
  else if (!context.globals.quiet) {
    io.stdout.write(
      `imported ${imported} events${summary.duplicates ? `, ${summary.duplicates} already there` : ''}${
        skipped ? `, ${skipped} invalid lines skipped` : ''
      }\n`,
    );
  }
};
