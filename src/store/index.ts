export type { EventStore } from './port.js';
export { parseEventRecord, readAllEvents } from './read-all-events.js';
export { type OpenStoreOptions, openStore } from './sqlite/open-sqlite-store.js';
export { formatStreamName, parseStreamName } from './stream-name.js';
export * from './types.js';
export { DEFAULT_MAX_EVENT_BYTES, prepareEvent } from './validate-event.js';
