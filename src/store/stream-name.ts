import { EvlogError } from '../errors.js';

/** `orders/order-17`, or `orders` for the keyless stream. */
export function formatStreamName(topic: string, key: string | null): string {
  return key === null ? topic : `${topic}/${key}`;
}

/** Splits `topic/key` at the first slash (keys may contain slashes, topics may not). */
export function parseStreamName(name: string): { topic: string; key: string | null } {
  const slash = name.indexOf('/');
  if (slash === 0) {
    throw new EvlogError('usage', `stream "${name}" has no topic`, {
      hint: 'write a stream as topic/key, e.g. orders/order-17',
    });
  }
  if (slash < 0) return { topic: name, key: null };
  const key = name.slice(slash + 1);
  return { topic: name.slice(0, slash), key: key === '' ? null : key };
}
