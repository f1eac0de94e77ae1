// Statistics of the benchmark verdicts: pure functions, unit-tested (test/unit/bench-stats.test.ts).

/** The q-quantile (0..1) of the finite values, interpolated between ranks. */
export function quantile(xs: readonly number[], q: number): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const at = (v.length - 1) * q;
  const lo = Math.floor(at);
  return v[lo] + (v[Math.min(lo + 1, v.length - 1)] - v[lo]) * (at - lo);
}
export const median = (xs: readonly number[]): number => quantile(xs, 0.5);
export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
export const mean = (xs: readonly number[]): number => sum(xs) / xs.length;

export interface MedianInterval {
  lo: number;
  hi: number;
  coverage: number;
}

/**
 * A distribution-free interval for the median: the k-th smallest and k-th
 * largest values, with the largest k whose coverage (from the binomial
 * distribution of how many values fall below the median) is still >= 95%
 * (or k = 1 down to 90%, for 5 values). Undefined when there are too few values.
 */
export function medianInterval(xs: readonly number[]): MedianInterval | undefined {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const n = v.length;
  const choose = (k: number): number => {
    let c = 1;
    for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
    return c;
  };
  let best: MedianInterval | undefined;
  let below = 0; // P(Bin(n, 1/2) <= k - 1)
  for (let k = 1; 2 * k <= n; k++) {
    below += choose(k - 1) / 2 ** n;
    const coverage = 1 - 2 * below;
    // Below 95%, only the full range, and only if it still covers 90% (5 values: 93.75%).
    if (coverage < (k === 1 ? 0.9 : 0.95)) break;
    best = { lo: v[k - 1], hi: v[n - k], coverage };
  }
  return best;
}

/** xs rotated left by r: the order of variants in round r. */
export const rotate = <T>(xs: readonly T[], r: number): T[] => xs.map((_, i) => xs[(i + r) % xs.length]);

export interface Sandwiched<V extends string, U, R> {
  /** Each variant's results, one per round. */
  res: Record<V, R[]>;
  /** Each traced run's baseline: the mean of its two untraced neighbours. */
  base: Record<V, number[]>;
  /** Each round's untraced results (the first is the last of the round before). */
  untraced: U[][];
}

/**
 * Runs each traced variant between two untraced runs and gives, for each
 * traced run, the mean of those two neighbours as its baseline: the host's
 * speed drifts by 10-30% over a minute here, and a neighbour on each side
 * cancels a steady drift that a single neighbour would count as tracing cost
 * (or gain). The untraced run after one variant is the one before the next.
 */
export async function sandwich<V extends string, U, R>(
  rounds: number,
  traced: readonly V[],
  untraced: () => Promise<U>,
  runVariant: (v: V, round: number) => Promise<R>,
  value: (u: U) => number,
): Promise<Sandwiched<V, U, R>> {
  const res = Object.fromEntries(traced.map((v) => [v, [] as R[]])) as Record<V, R[]>;
  const base = Object.fromEntries(traced.map((v) => [v, [] as number[]])) as Record<V, number[]>;
  const rows: U[][] = [];
  let before = await untraced();
  for (let r = 0; r < rounds; r++) {
    const us = [before];
    for (const v of rotate(traced, r)) {
      res[v].push(await runVariant(v, r));
      const after = await untraced();
      base[v].push((value(before) + value(after)) / 2);
      us.push(after);
      before = after;
    }
    rows.push(us);
  }
  return { res, base, untraced: rows };
}
