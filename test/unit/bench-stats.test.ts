// The statistics behind the benchmark verdicts (bench/lib/stats.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, medianInterval, quantile, sandwich } from '../../bench/lib/stats.js';

test('quantile interpolates between ranks and ignores non-finite values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
  assert.equal(median([1, NaN, 3]), 2);
  assert.ok(Number.isNaN(median([])));
});

test('medianInterval: the order statistics whose binomial coverage is at least 95%', () => {
  const nine = [9, 1, 8, 2, 7, 3, 6, 4, 5];
  // 9 values: 2nd to 8th, coverage 1 - 2 * (1 + 9) / 512.
  assert.deepEqual(medianInterval(nine), { lo: 2, hi: 8, coverage: 1 - 20 / 512 });
  // 45 values: 16th to 30th smallest (the 17th to 31st miss 95%).
  const iv = medianInterval(Array.from({ length: 45 }, (_, i) => i + 1));
  assert.ok(iv);
  assert.equal(iv.lo, 16);
  assert.equal(iv.hi, 30);
  assert.ok(iv.coverage >= 0.95 && iv.coverage < 0.97);
  // 5 values reach 93.75% only with the full range; 4 values not even 90%.
  assert.deepEqual(medianInterval([5, 4, 3, 2, 1]), { lo: 1, hi: 5, coverage: 0.9375 });
  assert.equal(medianInterval([1, 2, 3, 4]), undefined);
});

test('sandwich: a steady drift cancels out, where one neighbour would read it as cost', async () => {
  // The host speeds up by 10% per run; tracing truly costs 10% of the speed of the moment.
  let t = 0;
  const speed = () => 1000 * (1 + 0.1 * t++);
  const order: string[] = [];
  const s = await sandwich(
    3,
    ['a', 'b'],
    async () => {
      order.push('u');
      return { rate: speed() };
    },
    async (v: string) => {
      order.push(v);
      return { rate: 0.9 * speed() };
    },
    (u: { rate: number }) => u.rate,
  );
  assert.equal(order.join(''), 'uaubu' + 'buau' + 'aubu', 'every traced run between two untraced ones, order rotated');
  for (const v of ['a', 'b']) {
    const ratios = s.res[v].map((x: { rate: number }, i: number) => x.rate / s.base[v][i]);
    for (const r of ratios) assert.ok(Math.abs(r - 0.9) < 1e-9, `${v}: ${r}`);
  }
  // The run before alone would have said 0.9 * 1.1 = 0.99 at the first traced run.
  assert.ok(Math.abs(s.res.a[0].rate / s.untraced[0][0].rate - 0.99) < 1e-9);
  assert.deepEqual(
    s.untraced.map((us: unknown[]) => us.length),
    [3, 3, 3],
    'each round lists its untraced runs, sharing the boundary run',
  );
});
