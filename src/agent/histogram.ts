// A histogram's observations counted in explicit buckets as they come: what
// a window of one series holds (bounded by its buckets, not by how many
// connections observed), and what both sinks export in one call per series.
// Bucket i counts values in (bounds[i-1], bounds[i]], the last one the rest:
// OTLP's explicit buckets and Prometheus's `le`, alike.

export interface Hist {
  /** bounds.length + 1 counts. */
  counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

export const newHist = (bounds: readonly number[]): Hist => ({
  counts: new Array<number>(bounds.length + 1).fill(0),
  sum: 0,
  count: 0,
  min: Infinity,
  max: -Infinity,
});

export function observe(h: Hist, bounds: readonly number[], v: number): void {
  let i = 0;
  while (i < bounds.length && v > bounds[i]) i++;
  h.counts[i]++;
  h.sum += v;
  h.count++;
  if (v < h.min) h.min = v;
  if (v > h.max) h.max = v;
}

/** Adds `from`'s observations to `into` (same bounds). */
export function mergeHist(into: Hist, from: Hist): void {
  for (let i = 0; i < into.counts.length; i++) into.counts[i] += from.counts[i];
  into.sum += from.sum;
  into.count += from.count;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
}

export const copyHist = (h: Hist): Hist => ({ ...h, counts: [...h.counts] });
