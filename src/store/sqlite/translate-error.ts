import { EvlogError } from '../../errors.js';

/** Turns a driver error into an EvlogError that says what happened; no raw SQLite error leaks. */
export function translateError(error: unknown, path: string): unknown {
  if (error instanceof EvlogError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new EvlogError('failure', `the store ${path} stayed locked by another process for too long`, {
      hint: 'another evlog command is holding a long write (an import?); try again when it ends',
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new EvlogError('failure', `cannot write to ${path}: the store is read-only`, {
      hint: 'check the permissions of the file and of its folder (SQLite writes -wal and -shm files beside it)',
      cause: error,
    });
  }
  if (code === 'SQLITE_NOTADB') {
    return new EvlogError('not_found', `${path} is not an evlog store; it was left untouched`, {
      hint: 'point to an evlog store with --db <path>, or create one with `evlog init --db <new file>`',
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new EvlogError('failure', `${path} is damaged (${message})`, { cause: error });
  }
  if (code === 'SQLITE_FULL') {
    return new EvlogError('failure', `the disk holding ${path} is full; nothing was written`, { cause: error });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_PERM')) {
    return new EvlogError('failure', `cannot use ${path}: ${message}`, {
      hint: 'check that the folder exists and that you may write to it',
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_CONSTRAINT') && message.includes('immutable')) {
    return new EvlogError('failure', 'events are immutable: the store refused to change or delete one', {
      cause: error,
    });
  }
  return new EvlogError('failure', `store error in ${path}: ${message}`, { cause: error });
}
