import stringWidth from 'string-width';

/** `text` cut or padded to exactly `width` terminal columns (wide characters count twice). */
export function clip(text: string, width: number): string {
  if (width <= 0) return '';
  const clean = text.replace(/[\r\n\t]+/g, ' ');
  // Plain ASCII, the common case, needs no width table.
  if (/^[\x20-\x7e]*$/.test(clean)) {
    return clean.length > width ? `${clean.slice(0, width - 1)}…` : clean.padEnd(width);
  }
  if (stringWidth(clean) <= width) return clean + ' '.repeat(width - stringWidth(clean));
  let out = '';
  let used = 0;
  for (const char of clean) {
    const w = stringWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…${' '.repeat(Math.max(0, width - used - 1))}`;
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

/** Lines of `text` no wider than `width`, long lines wrapped. */
export function wrapLines(text: string, width: number): string[] {
  const lines: string[] = [];
  const w = Math.max(1, width);
  for (const line of text.split('\n')) {
    if (line.length <= w) {
      lines.push(line);
      continue;
    }
    for (let i = 0; i < line.length; i += w) lines.push(line.slice(i, i + w));
  }
  return lines;
}
