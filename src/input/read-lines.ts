import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { EvlogError } from '../errors.js';

export interface InputLine {
  text: string;
  /** 1-based line number in the input. */
  number: number;
}

/** The lines of a file. A missing file is a not-found error. */
export async function* readInputLines(path: string): AsyncGenerator<InputLine> {
  const stream = await openFile(path);
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  try {
    for await (const text of lines) {
      number++;
      yield { text, number };
    }
  } finally {
    // Stopping early (a bad line) must not leave the file open.
    lines.close();
    stream.destroy();
  }
}

async function openFile(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new EvlogError('not_found', `no file ${path}`)
          : error.code === 'EISDIR'
            ? new EvlogError('usage', `${path} is a folder, not a file`)
            : new EvlogError('failure', `cannot read ${path}: ${error.message}`),
      ),
    );
  });
  return stream;
}

/** All of stdin as text (for a single event's data piped in). */
export async function readAllText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
