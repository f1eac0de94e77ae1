// ceiling: several churn generators at once under one nettracer, to find the
// highest connection rate it traces without loss (bench/README.md).
import { rmSync } from 'node:fs';
import { progStats } from './lib/bpftool.js';
import { tmpFile } from './lib/cleanup.js';
import { churn } from './lib/generators.js';
import { RecordTail } from './lib/ndjson-tail.js';
import type { Options } from './lib/options.js';
import { bpfIds, cpuSeconds } from './lib/proc.js';
import { fint, fx, note, table } from './lib/report.js';
import { sum } from './lib/stats.js';
import { startNettracer } from './lib/tracers.js';

interface Level {
  /** Generators at once. */
  L: number;
  untraced: number;
  rate: number;
  expected: number;
  found: number;
  /** Sums over the tracer's "lost" records. */
  lost: number;
  untracked: number;
  missed: number;
  /** The kernel's count of skipped runs of the tracer's programs (recursion_misses). */
  kernelMissed: number;
  cpu: number;
}

export async function benchCeiling(o: Options): Promise<void> {
  const N = o.n;
  const levels: Level[] = [];
  for (const L of o.levels) {
    // Untraced first, for reference, then under nettracer.
    const u = await Promise.all(Array.from({ length: L }, () => churn(N)));
    const untraced = (L * N) / Math.max(...u.map((c) => c.seconds));
    const out = tmpFile(`ceiling-${L}.ndjson`);
    const t = await startNettracer(out);
    try {
      const cpu0 = cpuSeconds(t.pid);
      const cs = await Promise.all(Array.from({ length: L }, () => churn(N)));
      const rate = (L * N) / Math.max(...cs.map((c) => c.seconds));
      const tail = new RecordTail(out, new Set(cs.map((c) => c.port)));
      await tail.settle(() => tail.lifecycle >= 4 * L * N);
      const cpu = cpuSeconds(t.pid) - cpu0;
      // The kernel's own count of skipped runs, to hold the stream's hook_misses against.
      const kernelMissed = sum([...progStats(bpfIds(t.pid).progs).values()].map((p) => p.misses));
      await t.stop();
      tail.poll();
      levels.push({
        L,
        untraced,
        rate,
        expected: 4 * L * N,
        found: tail.lifecycle,
        lost: tail.lost,
        untracked: tail.untracked,
        missed: tail.missed,
        kernelMissed,
        cpu,
      });
    } finally {
      t.kill();
      rmSync(out, { force: true });
    }
  }
  const rows = levels.map((l) => [
    String(l.L),
    fint(l.untraced),
    fint(l.rate),
    fx(l.rate / l.untraced),
    fint(l.expected),
    fint(l.expected - l.found),
    fint(l.lost),
    fint(l.untracked),
    fint(l.missed),
    fx(l.cpu, 2),
  ]);
  table(
    [
      'generators',
      'untraced/s',
      'nettracer/s',
      'ratio',
      'expected',
      'missing',
      'records_lost',
      'untracked',
      'hook_misses',
      'nt CPU s',
    ],
    rows,
  );
  console.log(`  (${fint(N)} connections per generator; rate: all connections / slowest generator's time;`);
  console.log('   records_lost, untracked, hook_misses: sums of the tracer\'s "lost" records)');
  // A skipped program run (hook_misses) loses a record only if it was one that
  // writes one: the records' count says whether it did.
  const clean = levels.filter((l) => l.expected === l.found && l.lost === 0 && l.untracked === 0);
  const best = clean.length ? clean.reduce((a, b) => (b.rate > a.rate ? b : a)) : undefined;
  const lossy = levels.filter((l) => !clean.includes(l));
  let detail = best
    ? `highest rate with zero loss ${fint(best.rate)} conn/s (${best.L} generator${best.L > 1 ? 's' : ''})`
    : 'loss at every level';
  if (lossy.length) {
    detail +=
      '; loss: ' +
      lossy
        .map(
          (l) =>
            `${l.L} gen at ${fint(l.rate)}/s: ${fint(l.expected - l.found)} missing (${fx((100 * (l.expected - l.found)) / l.expected, 1)}%), ${fint(l.lost + l.untracked + l.missed)} reported`,
        )
        .join('; ');
  } else {
    detail += '; no loss at any level tested';
  }
  const missed = levels.filter((l) => l.missed > 0 || l.kernelMissed > 0);
  if (missed.length) {
    detail +=
      "; program runs the kernel skipped (hook_misses in the stream; the kernel's count): " +
      missed.map((l) => `${l.L} gen: ${fint(l.missed)}; ${fint(l.kernelMissed)}`).join(', ');
  }
  note(`ceiling: ${detail}`);
}
