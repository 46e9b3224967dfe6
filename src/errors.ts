/** What kind of failure an error is; each kind has one exit code (DESIGN.md, "Exit codes"). */
export type ErrorCode = 'failure' | 'usage' | 'invalid' | 'conflict' | 'not_found';

const EXIT_CODES: Record<ErrorCode, number> = {
  failure: 1,
  usage: 2,
  invalid: 3,
  conflict: 4,
  not_found: 5,
};

export interface EvlogErrorOptions {
  /** One line telling the user what to do next. */
  hint?: string;
  /** Extra lines, one per reason (e.g. one per schema violation). */
  details?: string[];
  /** In a batch: the 0-based index of the event that failed, so a reader can name its line. */
  eventIndex?: number;
  cause?: unknown;
}

/**
 * The one error type evlog throws on purpose. The CLI turns it into `evlog: <message>`,
 * an optional hint line and the exit code of its `code`.
 *
 * @example throw new EvlogError('not_found', 'no store at ./evlog.db', { hint: 'run `evlog init`' })
 */
export class EvlogError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: string[];
  readonly eventIndex: number | undefined;

  constructor(code: ErrorCode, message: string, options: EvlogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EvlogError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
    this.eventIndex = options.eventIndex;
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }

  toJSON(): { error: { code: ErrorCode; message: string; hint?: string; details?: string[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.details.length ? { details: this.details } : {}),
      },
    };
  }
}

export function isEvlogError(error: unknown): error is EvlogError {
  return error instanceof EvlogError;
}
