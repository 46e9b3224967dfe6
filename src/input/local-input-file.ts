import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EvlogError } from '../errors.js';

export interface LocalInputFile {
  path: string;
  /** Removes the temporary copy, if one was made. */
  dispose(): void;
}

/**
 * A batch's input as a local file, ready before the store is touched: the file itself
 * (checked to exist), or stdin copied to a temporary file. The append then holds the store's
 * write lock only while it appends, never while a producer upstream is still writing.
 */
export async function localInputFile(source: string, stdin: Readable): Promise<LocalInputFile> {
  if (source !== '-') {
    const stats = statSync(source, { throwIfNoEntry: false });
    if (!stats) throw new EvlogError('not_found', `no file ${source}`);
    if (stats.isDirectory()) throw new EvlogError('usage', `${source} is a folder, not a file`);
    return { path: source, dispose() {} };
  }
  const folder = mkdtempSync(join(tmpdir(), 'evlog-stdin-'));
  const dispose = () => rmSync(folder, { recursive: true, force: true });
  const path = join(folder, 'input.ndjson');
  try {
    await pipeline(stdin, createWriteStream(path));
  } catch (error) {
    dispose();
    throw new EvlogError('failure', `cannot read stdin: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { path, dispose };
}
