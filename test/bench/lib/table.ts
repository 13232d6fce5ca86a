/**
 * Plain-text tables for benchmark output: columns padded to their widest cell, numbers right-aligned, plus the
 * number formats the benchmarks share. Pure functions, no I/O.
 */

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** Renders `rows` under `columns`; a missing cell prints as "-". */
export function formatTable(columns: readonly Column[], rows: ReadonlyArray<ReadonlyArray<string | undefined>>): string {
  const cells = rows.map((row) => columns.map((_c, i) => row[i] ?? '-'));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const pad = (text: string, i: number) => (columns[i].align === 'right' ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (row: readonly string[]) => row.map(pad).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join('\n');
}

/** Milliseconds as "12.3 ms" below a second, "1.23 s" above. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(ms < 100 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Operations per second, e.g. "12,345 IOPS". */
export function formatRate(perSecond: number, unit: string): string {
  return `${Math.round(perSecond).toLocaleString('en-US')} ${unit}`;
}

/** A factor such as "2.31x". */
export function formatFactor(factor: number): string {
  return Number.isFinite(factor) ? `${factor.toFixed(2)}x` : '-';
}
