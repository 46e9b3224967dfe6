import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { clip, truncate, wrapLines } from './format.js';

/** No lone surrogate: nothing would print as `�`. */
function whole(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

describe('wrapLines', () => {
  it('wraps wide characters by the columns they take, losing none', () => {
    const text = '世'.repeat(150);
    const lines = wrapLines(text, 78);
    for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(78);
    expect(lines.join('')).toBe(text);
    // Shown as the scroll pane shows them: nothing cut by clip.
    for (const line of lines) expect(clip(` ${line}`, 80)).not.toContain('…');
  });

  it('keeps surrogate pairs and emoji whole, and wraps Cyrillic and mixed text without loss', () => {
    const text = `ошибка: ${'😀'.repeat(30)} 数据库 locked 👩‍👩‍👧 ${'я'.repeat(90)}`;
    const lines = wrapLines(text, 20);
    for (const line of lines) {
      expect(stringWidth(line)).toBeLessThanOrEqual(20);
      expect(whole(line)).toBe(true);
    }
    expect(lines.join('')).toBe(text);
  });

  it('puts a character wider than the line on a line of its own, and wraps ASCII as before', () => {
    expect(wrapLines('a世b', 1)).toEqual(['a', '世', 'b']);
    expect(wrapLines('abcdefg\nxy', 3)).toEqual(['abc', 'def', 'g', 'xy']);
  });
});

describe('clip and truncate', () => {
  it('cut between whole characters, to the columns given', () => {
    expect(clip('世界世界', 5)).toBe('世界…');
    expect(stringWidth(clip('😀😀😀', 4))).toBe(4);
    expect(whole(truncate('a😀b', 2))).toBe(true);
    expect(truncate('a😀b', 2)).toBe('a');
    expect(truncate('a😀b', 3)).toBe('a😀');
    expect(clip('abc', 5)).toBe('abc  ');
    expect(clip('abcdef', 4)).toBe('abc…');
  });
});
