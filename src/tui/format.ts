import stringWidth from 'string-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Terminal columns `text` takes (wide characters count twice). */
export function displayWidth(text: string): number {
  // Plain ASCII, the common case, needs no width table.
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

/**
 * The characters of `text` that fit in `width` columns, cut between whole characters (a
 * surrogate pair, an emoji with its modifiers, a letter with its accents stay together),
 * and the columns they take.
 */
function fitColumns(text: string, width: number): { head: string; used: number; whole: boolean } {
  if (PRINTABLE_ASCII.test(text)) {
    const head = text.slice(0, Math.max(0, width));
    return { head, used: head.length, whole: head.length === text.length };
  }
  let head = '';
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const w = stringWidth(segment);
    if (used + w > width) return { head, used, whole: false };
    head += segment;
    used += w;
  }
  return { head, used, whole: true };
}

/** `text` cut to at most `width` columns, without padding or a mark. */
export function truncate(text: string, width: number): string {
  return fitColumns(text, width).head;
}

/** `text` cut or padded to exactly `width` terminal columns (wide characters count twice). */
export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  const clean = text.replace(/[\r\n\t]+/g, ' ');
  const all = fitColumns(clean, width);
  if (all.whole) return all.head + ' '.repeat(width - all.used);
  const cut = fitColumns(clean, width - 1);
  return `${cut.head}…${' '.repeat(Math.max(0, width - cut.used - 1))}`;
}

/** `12,345` */
export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** How long ago, in the largest whole unit: `42s`, `5m`, `3h`, `12d`. */
export function age(ms: number, now: number): string {
  const seconds = Math.max(0, Math.floor((now - ms) / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** `2026-11-22 09:00:00` in UTC, the short form for lists. */
export function shortTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}

/** JSON text indented (pretty) or as it is (raw); text that is not JSON is returned as it is. */
export function showJson(text: string, pretty: boolean): string {
  if (!pretty) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/**
 * Lines of `text` no wider than `width` columns, long lines wrapped by display width (a wide
 * character takes two columns) between whole characters, so nothing is cut off when shown.
 */
export function wrapLines(text: string, width: number): string[] {
  const lines: string[] = [];
  const w = Math.max(1, width);
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[\r\t]/g, ' ');
    if (PRINTABLE_ASCII.test(line)) {
      if (line.length <= w) lines.push(line);
      else for (let i = 0; i < line.length; i += w) lines.push(line.slice(i, i + w));
      continue;
    }
    // One pass over the characters; one wider than the whole line goes on a line of its own.
    let current = '';
    let used = 0;
    for (const { segment } of graphemes.segment(line)) {
      const cw = segment.length === 1 && segment >= ' ' && segment <= '~' ? 1 : stringWidth(segment);
      if (used + cw > w && current !== '') {
        lines.push(current);
        current = '';
        used = 0;
      }
      current += segment;
      used += cw;
    }
    lines.push(current);
  }
  return lines;
}
