import type { Writable } from 'node:stream';
import { OutputClosedError } from './output-closed-error.js';

const FLUSH_AT = 64 * 1024;

/**
 * Buffers lines and writes them in large chunks, waiting when the stream is full, so a
 * million events go out at disk speed and a slow reader is never flooded.
 */
export function createLineWriter(stream: Writable) {
  let buffer = '';
  let closed = false;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') closed = true;
  };
  stream.on('error', onError);

  async function flush(): Promise<void> {
    if (closed) throw new OutputClosedError();
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
    if (closed) throw new OutputClosedError();
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
