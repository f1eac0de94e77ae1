// churn: the rate of short loopback connections under each tracer, against
// untraced runs, with the tracer's CPU and lost records per round (bench/README.md).
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dumpMaps, enableBpfStats, progDelta, progStats, requireBpftool } from './lib/bpftool.js';
import { tmpFile } from './lib/cleanup.js';
import { run, which } from './lib/exec.js';
import { churn } from './lib/generators.js';
import { EndsTail, RecordTail } from './lib/ndjson-tail.js';
import type { Options } from './lib/options.js';
import { HOOKS_ONLY, ROOT } from './lib/paths.js';
import { bpfIds, cpuSeconds } from './lib/proc.js';
import { fint, fx, medianWithInterval, note, table, verdict } from './lib/report.js';
import { mean, median, medianInterval, sandwich, sum } from './lib/stats.js';
import { baselineBuild, type Build, countTcplife, startNettracer, startTcplife, THIS_BUILD } from './lib/tracers.js';

type Variant = 'nettracer' | 'tcplife' | 'hooksOnly' | 'stopped' | 'devNull' | 'baseline';

/** One run: the generator's rate and, for the tracers measured in full, what they cost and lost. */
interface Result {
  rate: number;
  /** The tracer's CPU seconds per 10,000 connections. */
  cpu10k: number;
  expected: number;
  missing: number;
  reportedLost: number;
  /** Its BPF programs' run time per connection (ns), with --baseline. */
  bpfNs: number;
}

const rateOnly = (rate: number): Result => ({
  rate,
  cpu10k: NaN,
  expected: NaN,
  missing: NaN,
  reportedLost: NaN,
  bpfNs: NaN,
});

/**
 * A churn round whose records do not add up: keep its output (the temp dir
 * goes at exit) and say which connection ends are incomplete, so a rare miss
 * can be looked into instead of only counted.
 */
function keepForInspection(file: string, round: number, port: number, build: Build): void {
  const label = build === THIS_BUILD ? '' : `${build.label}-`;
  const kept = join(tmpdir(), `nettracer-bench-${label}round-${round + 1}-${process.pid}.ndjson`);
  copyFileSync(file, kept);
  const tail = new EndsTail(file, new Set([port]));
  tail.poll();
  const odd = [...tail.ends].filter(([, k]) => k.length !== 2 || !k.includes('close'));
  note(
    `${build.label} round ${round + 1}: ${tail.lifecycle} lifecycle records (${JSON.stringify(tail.counts)}) of ${tail.ends.size} connection ends; ` +
      `${odd.length} incomplete, e.g. ${odd
        .slice(0, 3)
        .map(([id, k]) => `${id}: ${k.join(',')}`)
        .join('; ')}; output kept in ${kept}`,
  );
}

export async function benchChurn(o: Options): Promise<void> {
  const N = o.n;
  const hasTcplife = !!which('tcplife');
  const variants: Variant[] = hasTcplife ? ['nettracer', 'tcplife'] : ['nettracer'];
  if (!hasTcplife) note('tcplife not found (apt-get install libbpf-tools): compared with untraced only');
  // The floor: nettracer with its hooks attached but doing nothing.
  const hooksOnly = await run('make', ['-s', '-C', join(ROOT, 'bpf'), 'hooks-only'], { timeoutMs: 120_000 });
  if (hooksOnly.code === 0 && existsSync(HOOKS_ONLY)) variants.push('hooksOnly');
  else note('could not build bpf/.output/hooks-only.bpf.o: the hooks-only floor is not measured');
  if (o.decompose) variants.push('stopped', 'devNull');
  const baseline = o.baseline ? baselineBuild(o.baseline) : undefined;
  if (baseline) variants.push('baseline');
  if (o.cpuProf) {
    mkdirSync(o.cpuProf, { recursive: true });
    chmodSync(o.cpuProf, 0o777); // nettracer drops root after attaching and writes the profile at exit
  }
  console.log(
    `${o.rounds} rounds of ${fint(N)} sequential loopback connections: an untraced run before and after each traced one, order rotated each round`,
  );
  // BPF run time per connection, for the comparison with the baseline, needs
  // the kernel's run_time_ns: on for all the rounds, so both builds pay it alike.
  let restoreStats = (): void => {};
  if (baseline) {
    requireBpftool();
    restoreStats = enableBpfStats();
    console.log(
      `--baseline ${o.baseline}: kernel.bpf_stats_enabled on during the rounds (each BPF program run costs slightly more, for every tracer)`,
    );
  }

  /** A full measurement under a build of nettracer: rate, CPU, records, and BPF time when stats are on. */
  async function measured(build: Build, r: number): Promise<Result> {
    const out = tmpFile(`churn-${build.label}-${r}.ndjson`);
    const nodeArgs = build === THIS_BUILD && o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : [];
    const t = await startNettracer(out, [], { build, nodeArgs });
    try {
      const ids = baseline ? bpfIds(t.pid).progs : undefined;
      const before = ids ? progStats(ids) : undefined;
      const cpu0 = cpuSeconds(t.pid);
      const c = await churn(N);
      const tail = new RecordTail(out, new Set([c.port]));
      await tail.settle(() => tail.lifecycle >= 4 * N);
      const cpu = cpuSeconds(t.pid) - cpu0;
      const bpfNs = ids && before ? sum([...progDelta(before, progStats(ids)).values()].map((x) => x.ns)) / N : NaN;
      // Short: the tracer's maps now, while it still holds them.
      if (tail.lifecycle !== 4 * N) {
        const prefix = join(tmpdir(), `nettracer-bench-${build.label}-round-${r + 1}-${process.pid}-map`);
        note(`maps of the short round's tracer: ${dumpMaps(bpfIds(t.pid).maps, prefix).join(', ')}`);
      }
      await t.stop();
      tail.poll();
      if (tail.lifecycle !== 4 * N) keepForInspection(out, r, c.port, build);
      return {
        rate: c.rate,
        cpu10k: (cpu / N) * 1e4,
        expected: 4 * N,
        missing: 4 * N - tail.lifecycle,
        reportedLost: tail.lost + tail.untracked + tail.missed,
        bpfNs,
      };
    } finally {
      t.kill();
      rmSync(out, { force: true });
    }
  }

  /**
   * The churn's rate under nettracer with these arguments, writing to the
   * temp file `file` (removed after) or, without one, to /dev/null;
   * stopped: SIGSTOP once attached.
   */
  async function rateUnder(file: string | undefined, extra: string[], stopped = false): Promise<Result> {
    const t = await startNettracer(file ?? '/dev/null', extra);
    try {
      if (stopped) t.signal('SIGSTOP');
      const c = await churn(N);
      if (stopped) t.signal('SIGCONT');
      await t.stop();
      return rateOnly(c.rate);
    } finally {
      t.kill();
      if (file) rmSync(file, { force: true });
    }
  }

  const once: Record<Variant, (r: number) => Promise<Result>> = {
    nettracer: (r) => measured(THIS_BUILD, r),
    baseline: (r) => (baseline ? measured(baseline, r) : Promise.reject(new Error('no --baseline'))),
    hooksOnly: (r) => rateUnder(tmpFile(`churn-hooks-only-${r}.ndjson`), ['-p', HOOKS_ONLY]),
    // --decompose: the BPF work alone (the process stopped, nothing read;
    // 64 MiB hold 116k connections' records), then reading and encoding
    // without the file.
    stopped: (r) => rateUnder(tmpFile(`churn-stopped-${r}.ndjson`), ['--ring-size', '65536'], true),
    devNull: () => rateUnder(undefined, []),
    async tcplife(r) {
      const out = tmpFile(`churn-tcplife-${r}.txt`);
      const t = await startTcplife(out);
      try {
        const cpu0 = cpuSeconds(t.pid);
        const c = await churn(N);
        await sleep(1000); // its output is buffered until exit: give it time to drain the perf buffer
        const cpu = cpuSeconds(t.pid) - cpu0;
        await t.stop();
        const { lines, lost } = countTcplife(out, new Set([c.port]), t.stderr());
        return {
          rate: c.rate,
          cpu10k: (cpu / N) * 1e4,
          expected: 2 * N,
          missing: 2 * N - lines,
          reportedLost: lost,
          bpfNs: NaN,
        };
      } finally {
        t.kill();
        rmSync(out, { force: true });
      }
    },
  };

  let s;
  try {
    s = await sandwich(
      o.rounds,
      variants,
      async () => ({ rate: (await churn(N)).rate }),
      (v, r) => once[v](r),
      (u) => u.rate,
    );
  } finally {
    restoreStats();
  }
  const res = s.res;
  const untraced = s.untraced.map((us) => mean(us.map((u) => u.rate)));
  const ratio = Object.fromEntries(variants.map((v) => [v, res[v].map((x, i) => x.rate / s.base[v][i])])) as Partial<
    Record<Variant, number[]>
  >;
  const nt = res.nettracer;
  const tl = hasTcplife ? res.tcplife : [];
  const ratioN = ratio.nettracer ?? [];
  const ratioTl = ratio.tcplife ?? [];

  const rows: string[][] = [];
  for (let r = 0; r < o.rounds; r++) {
    const n = nt[r];
    const t = tl[r];
    rows.push([
      `round ${r + 1}`,
      fint(untraced[r]),
      fint(n.rate),
      fx(ratioN[r]),
      t ? fint(t.rate) : '-',
      t ? fx(ratioTl[r]) : '-',
      fx(n.cpu10k, 3),
      t ? fx(t.cpu10k, 3) : '-',
      `${n.missing}/${n.reportedLost}`,
      t ? `${t.missing}/${t.reportedLost}` : '-',
    ]);
  }
  const med = (xs: Result[], k: keyof Result): number => median(xs.map((x) => x[k]));
  const medN = median(ratioN);
  const medTl = hasTcplife ? median(ratioTl) : NaN;
  rows.push([
    'median',
    fint(median(untraced)),
    fint(med(nt, 'rate')),
    fx(medN),
    hasTcplife ? fint(med(tl, 'rate')) : '-',
    fx(medTl),
    fx(med(nt, 'cpu10k'), 3),
    hasTcplife ? fx(med(tl, 'cpu10k'), 3) : '-',
    '',
    '',
  ]);
  table(
    [
      '',
      'untraced/s',
      'nettracer/s',
      'ratio',
      'tcplife/s',
      'ratio',
      'nt CPU s/10k',
      'tl CPU s/10k',
      'nt miss/lost',
      'tl miss/lost',
    ],
    rows,
  );
  console.log("  (conn/s as the generator measures them; untraced: mean of the round's untraced runs;");
  console.log('   ratio: to the mean of the untraced runs just before and just after it;');
  console.log(
    "   CPU: the tracer's time on CPU during the run (all threads, /proc/PID/task/*/schedstat) per 10,000 connections;",
  );
  console.log('   miss: expected records absent (nettracer 4/conn, tcplife 2/conn); lost: reported by the tracer)');
  if (ratio.hooksOnly && !ratio.stopped) {
    const each = ratio.hooksOnly.map((x) => fx(x)).join(' ');
    note(
      `hooks only (nettracer's tracepoints attached, every program returning at once): ratio ${fx(median(ratio.hooksOnly), 3)} (rounds: ${each}): what attaching these hooks costs before any of nettracer's work`,
    );
  }
  if (ratio.stopped) {
    const steps: [string, number[] | undefined][] = [
      ['hooks attached, returning at once', ratio.hooksOnly],
      ['+ the BPF work (tracer stopped, nothing read)', ratio.stopped],
      ['+ reading the ring and encoding (--output /dev/null)', ratio.devNull],
      ['+ writing the file (nettracer as above)', ratio.nettracer],
    ];
    note(`where the churn's slowdown comes from (median ratio of ${o.rounds} rounds each, interval of the median):`);
    for (const [what, xs] of steps) if (xs) console.log(`  ${what.padEnd(54)} ${medianWithInterval(xs)}`);
  }
  if (baseline) compareBaseline(o, res.nettracer, res.baseline, ratioN, ratio.baseline ?? []);

  const cpuN = med(nt, 'cpu10k');
  const cpuT = hasTcplife ? med(tl, 'cpu10k') : NaN;
  verdict(
    'churn nettracer CPU per connection <= tcplife',
    hasTcplife ? cpuN <= cpuT : undefined,
    `median ${fx((cpuN / 1e4) * 1e6, 1)} us/conn vs tcplife ${fx((cpuT / 1e4) * 1e6, 1)} us/conn, ${fx(cpuN / cpuT, 1)}x`,
  );
  verdict(
    'churn rate under nettracer >= 0.90 x untraced',
    medN >= 0.9,
    medianWithInterval(ratioN, 0.9) + (hasTcplife ? `; tcplife ${fx(medTl, 3)}` : ''),
  );
  const missing = sum(nt.map((x) => Math.max(0, x.missing)));
  const extra = sum(nt.map((x) => Math.max(0, -x.missing)));
  const lost = sum(nt.map((x) => x.reportedLost));
  verdict(
    'churn zero lost events (nettracer)',
    missing === 0 && lost === 0 && extra === 0,
    `${fint(missing)} of ${fint(sum(nt.map((x) => x.expected)))} records missing, ${fint(lost)} reported lost` +
      (extra ? `, ${extra} unexpected extra` : ''),
  );
  if (o.cpuProf) note(`nettracer CPU profiles in ${o.cpuProf}`);
}

/** --baseline: this build and the baseline side by side, over the same rounds of the same connections. */
function compareBaseline(o: Options, nt: Result[], bl: Result[], ratioN: number[], ratioB: number[]): void {
  console.log(
    `nettracer (this checkout) and baseline (${o.baseline}), the same ${o.rounds} rounds of ${fint(o.n)} connections:`,
  );
  const us = (x: Result): number => (x.cpu10k / 1e4) * 1e6;
  const rows = nt.map((n, r) => {
    const b = bl[r];
    return [
      `round ${r + 1}`,
      fx(ratioN[r], 3),
      fx(ratioB[r], 3),
      fx(ratioN[r] / ratioB[r], 3),
      fx(us(n), 1),
      fx(us(b), 1),
      fx(n.bpfNs, 0),
      fx(b.bpfNs, 0),
      `${n.missing}/${n.reportedLost}`,
      `${b.missing}/${b.reportedLost}`,
    ];
  });
  table(
    [
      '',
      'nt ratio',
      'bl ratio',
      'nt/bl',
      'nt CPU us/conn',
      'bl CPU us/conn',
      'nt BPF ns/conn',
      'bl BPF ns/conn',
      'nt miss/lost',
      'bl miss/lost',
    ],
    rows,
  );
  const interval = (xs: number[]): string => {
    const iv = medianInterval(xs);
    return iv ? `${fx(iv.lo, 3)}-${fx(iv.hi, 3)} (${Math.floor(iv.coverage * 100)}%)` : '(too few rounds)';
  };
  const side = (what: string, f: (xs: Result[], ratios: number[]) => string): string[] => [
    what,
    f(nt, ratioN),
    f(bl, ratioB),
  ];
  table(
    ['median of the rounds', 'nettracer', 'baseline'],
    [
      side('churn ratio', (_, rs) => fx(median(rs), 3)),
      side('  interval of the median', (_, rs) => interval(rs)),
      side('tracer CPU us/conn', (xs) => fx(median(xs.map(us)), 1)),
      side('BPF run time ns/conn', (xs) => fx(median(xs.map((x) => x.bpfNs)), 0)),
      side(
        'records missing/reported lost (sum)',
        (xs) => `${fint(sum(xs.map((x) => x.missing)))}/${fint(sum(xs.map((x) => x.reportedLost)))}`,
      ),
    ],
  );
  console.log(
    '  (ratio: to the untraced runs around it, as above; CPU: schedstat, all threads; BPF: run_time_ns of the',
  );
  console.log(
    "   tracer's own programs over the run, per connection; hooks fire for every process, so others' connections add)",
  );
  note(`nettracer/baseline churn ratio in the same round: ${medianWithInterval(ratioN.map((x, i) => x / ratioB[i]))}`);
}
