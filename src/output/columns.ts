// Columns that fit a terminal's width: each has a least and a most width and
// a rank; the lowest-ranked columns are dropped until the least widths fit,
// then the room left widens the columns that can use it, in rank order. A
// cell wider than its column is shortened (shorten()), so no line is ever
// wider than the width asked for and a terminal never wraps it.

export interface Column<T> {
  title: string;
  /** Least and most width; the cell is cut to the width it gets. */
  min: number;
  max: number;
  /** Higher stays longer when the width is short; equal ranks drop right to left. */
  rank: number;
  align: 'left' | 'right';
  /** Where a cell too long for the column is cut: the end (default) or the start (addresses: the port stays). */
  cut?: 'end' | 'start';
  /** Never cut: its width is that of its widest cell (a number), set by the caller each time. */
  exact?: boolean;
  cell(row: T): string;
}

export interface Fitted<T> {
  column: Column<T>;
  width: number;
}

/** The columns that fit in `width` (with one space between them), widened to use the room. */
export function fitColumns<T>(columns: readonly Column<T>[], width: number): Fitted<T>[] {
  const kept = columns.map((column, i) => ({ column, i }));
  const need = () => kept.reduce((s, k) => s + k.column.min, 0) + Math.max(0, kept.length - 1);
  while (kept.length > 1 && need() > width) {
    let drop = 0;
    for (let j = 1; j < kept.length; j++) if (kept[j].column.rank <= kept[drop].column.rank) drop = j;
    kept.splice(drop, 1);
  }
  const fitted = kept.map((k) => ({ column: k.column, width: Math.min(k.column.min, width) }));
  let room = width - need();
  for (const f of [...fitted].sort((a, b) => b.column.rank - a.column.rank)) {
    if (room <= 0) break;
    const more = Math.min(room, f.column.max - f.width);
    f.width += more;
    room -= more;
  }
  return fitted;
}

/** `text` cut to `width` characters: a cut is marked with "~" where it was made. */
export function shorten(text: string, width: number, cut: 'end' | 'start' = 'end'): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, width).join('');
  return cut === 'start'
    ? `~${chars.slice(chars.length - width + 1).join('')}`
    : `${chars.slice(0, width - 1).join('')}~`;
}

/**
 * Text whose every character takes one terminal column: characters that may
 * take two (CJK, emoji) or none (combining marks, controls) become "?", so
 * counting characters counts columns. Process names are the process's choice.
 */
export function narrow(text: string): string {
  return text.replace(/[^\x20-\x7e\u00a0-\u02ff\u0370-\u0482\u048a-\u058f\u1e00-\u1fff]/gu, '?');
}

/** One line of cells, each made narrow() and padded or cut to its column's width. */
export function formatRow<T>(fitted: readonly Fitted<T>[], cells: readonly string[]): string {
  return fitted
    .map((f, i) => {
      const text = shorten(narrow(cells[i]), f.width, f.column.cut);
      const pad = ' '.repeat(f.width - [...text].length);
      return f.column.align === 'right' ? pad + text : text + pad;
    })
    .join(' ')
    .trimEnd();
}
