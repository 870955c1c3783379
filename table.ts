/** Plain-text tables for the plan output: columns padded to their widest cell. */

/**
 * Formats rows (the first is the header). The first `textColumns` columns are left-aligned,
 * the rest (numbers) right-aligned; cells are separated by two spaces.
 */
export function formatTable(rows: readonly (readonly string[])[], textColumns = 1): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows
    .map((r) => r.map((cell, col) => (col < textColumns ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join("  "))
    .join("\n");
}
