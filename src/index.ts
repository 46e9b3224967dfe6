/**
 * evlog as a library: the same store, with the same semantics, as the CLI.
 *
 * @example
 * import { openStore } from 'evlog';
 * const store = openStore('./evlog.db');
 * const [result] = await store.appendEvents([{ topic: 'orders', key: 'order-17', type: 'OrderPlaced', data: { total: 12.5 } }]);
 */
export { type ErrorCode, EvlogError, isEvlogError } from './errors.js';
export * from './store/index.js';
