import { EvlogError } from '../errors.js';

/** JSON.parse with an error that says where the text is malformed. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const preview = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    throw new EvlogError('invalid', `${what} is not valid JSON (${reason}): ${preview}`);
  }
}
