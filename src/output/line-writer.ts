import type { Writable } from 'node:stream';
import { EvlogError } from '../errors.js';
import { OutputClosedError } from './output-closed-error.js';

const FLUSH_AT = 64 * 1024;

/**
 * Buffers lines and writes them in large chunks, waiting when the stream is full, so a
 * million events go out at disk speed and a slow reader is never flooded.
 */
export function createLineWriter(stream: Writable) {
  let buffer = '';
  let closed = false;
  let failure: Error | undefined;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
    else failure = error;
  };
  const throwIfBroken = () => {
    if (closed) throw new OutputClosedError();
    if (failure) throw new EvlogError('failure', `cannot write the output: ${failure.message}`);
  };
  stream.on('error', onError);

  async function flush(): Promise<void> {
    throwIfBroken();
    if (buffer === '') return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          stream.off('drain', done);
          stream.off('error', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('error', done);
        stream.on('close', done);
      });
    }
    throwIfBroken();
  }

  return {
    /** Adds one line (without its newline); flushes when the buffer is large. */
    async line(text: string): Promise<void> {
      buffer += `${text}\n`;
      if (buffer.length >= FLUSH_AT) await flush();
    },
    flush,
    dispose(): void {
      stream.off('error', onError);
    },
  };
}

export type LineWriter = ReturnType<typeof createLineWriter>;
