// @ts-check
/**
 * The benchmarks' table: columns padded to their widest cell, joined by " | ", a rule of
 * dashes under the header. The columns in `rightAligned` (numbers) are padded on the left.
 *
 * @param {string[]} header
 * @param {string[][]} rows
 * @param {number[]} rightAligned  column indexes
 * @returns {{ header: string, rule: string, rows: string[] }}
 */
export function layoutTable(header, rows, rightAligned) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((cells) => (cells[i] ?? '').length)));
  /** @param {string[]} cells */
  const line = (cells) =>
    cells
      .map((cell, i) => {
        const width = /** @type {number} */ (widths[i]);
        return rightAligned.includes(i) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join(' | ')
      .trimEnd();
  return { header: line(header), rule: widths.map((w) => '-'.repeat(w)).join('-+-'), rows: rows.map(line) };
}
