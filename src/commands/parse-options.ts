import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { EvlogError } from '../errors.js';

// English messages; zod/mini ships none by default (it is the small build of zod: full zod
// adds 700 KB to the bundle and tens of ms to every start).
z.config(en());

/**
 * Validates a command's options once, at the boundary. Each zod issue becomes one line that
 * names the flag as the user typed it.
 */
export function parseOptions<T extends z.ZodMiniType>(
  schema: T,
  raw: unknown,
  flagNames: Record<string, string> = {},
): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    const flag = flagNames[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return `${flag}: ${issue.message}`;
  });
  throw new EvlogError('usage', lines[0] ?? 'invalid options', { details: lines.slice(1) });
}
