/**
 * Event ids on disk. A canonical (lower-case, dashed) UUID, which every generated id is, is
 * kept as 16 bytes instead of 36 characters: 39 bytes less per event across the row and the
 * id index. Any other id a caller chose is kept as text, exactly as given.
 */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The value to store (and to look up) for an id. */
export function storedEventId(id: string): string | Buffer {
  return CANONICAL_UUID.test(id) ? Buffer.from(id.replaceAll('-', ''), 'hex') : id;
}

/**
 * Selects an id as text: 32 hex digits for a stored UUID, '~' and the text for any other id,
 * so that reading never creates a Buffer per row (which costs more than the hex).
 */
export const SELECT_EVENT_ID = "CASE WHEN typeof(e.id) = 'blob' THEN lower(hex(e.id)) ELSE '~' || e.id END";

/** The id as the caller knows it, from a value selected with SELECT_EVENT_ID. */
export function eventIdFromColumn(value: string): string {
  if (value.charCodeAt(0) === 126 /* ~ */) return value.slice(1);
  return `${value.slice(0, 8)}-${value.slice(8, 12)}-${value.slice(12, 16)}-${value.slice(16, 20)}-${value.slice(20)}`;
}
