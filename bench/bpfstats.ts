// bpfstats: the tracers' own BPF programs' run counts and run time per
// connection of the churn, and per second of a bulk transfer (bench/README.md).
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { enableBpfStats, progDelta, progStats, requireBpftool } from './lib/bpftool.js';
import { tmpFile } from './lib/cleanup.js';
import { which } from './lib/exec.js';
import { churn } from './lib/generators.js';
import { hookPrograms } from './lib/hooks.js';
import { iperf, startIperfServer } from './lib/net.js';
import { RecordTail } from './lib/ndjson-tail.js';
import type { Options } from './lib/options.js';
import { bpfIds } from './lib/proc.js';
import { fint, fx, note, table } from './lib/report.js';
import { median, sum } from './lib/stats.js';
import { baselineBuild, type Build, type Running, startNettracer, startTcplife, THIS_BUILD } from './lib/tracers.js';

/** A tracer to measure: a build of nettracer, or tcplife. */
interface Tool {
  name: string;
  build?: Build;
  start: (out: string) => Promise<Running>;
}

export async function benchBpfStats(o: Options): Promise<void> {
  requireBpftool();
  const N = o.n;
  const RUNS = 3;
  const restore = enableBpfStats();
  const builds = o.baseline ? [THIS_BUILD, baselineBuild(o.baseline)] : [THIS_BUILD];
  const tools: Tool[] = builds.map((build) => ({
    name: build.label,
    build,
    start: (out) => startNettracer(out, [], { build }),
  }));
  if (which('tcplife')) tools.push({ name: 'tcplife', start: startTcplife });
  const summary: [string, number][] = [];
  try {
    for (const tool of tools) {
      const out = tmpFile(`bpfstats-${tool.name}.out`);
      const t = await tool.start(out);
      try {
        const ids = bpfIds(t.pid).progs;
        const perRun: Map<string, { cnt: number; ns: number }>[] = [];
        const rates: number[] = [];
        for (let i = 0; i < RUNS; i++) {
          const before = progStats(ids);
          const c = await churn(N);
          rates.push(c.rate);
          if (tool.build) {
            const tail = new RecordTail(out, new Set([c.port]));
            await tail.settle(() => tail.lifecycle >= 4 * N);
          } else {
            await sleep(500);
          }
          perRun.push(progDelta(before, progStats(ids)));
        }
        const bulk = tool.build && which('iperf3') ? await bulkBpfTime(ids, o.iperfSeconds) : undefined;
        await t.stop();
        // nettracer's programs from its hook table, so one it did not load shows as such.
        const names = tool.build ? [...new Set([...hookPrograms(), ...perRun[0].keys()])] : [...perRun[0].keys()];
        const rows: string[][] = [];
        let totNs = 0;
        let totRuns = 0;
        for (const name of names) {
          if (!perRun[0].has(name)) {
            rows.push([name, '(not loaded)', '', '', '']);
            continue;
          }
          const cnt = median(perRun.map((d) => d.get(name)?.cnt ?? 0));
          const ns = median(perRun.map((d) => d.get(name)?.ns ?? 0));
          totNs += ns;
          totRuns += cnt;
          rows.push([name, fint(cnt), fx(cnt / N, 2), cnt ? fx(ns / cnt, 0) : '-', fx(ns / N, 0)]);
        }
        rows.push([
          'total',
          fint(totRuns),
          fx(totRuns / N, 2),
          totRuns ? fx(totNs / totRuns, 0) : '-',
          fx(totNs / N, 0),
        ]);
        console.log(
          `${tool.name}: ${RUNS} runs of ${fint(N)} connections (median per run), churn ${fint(median(rates))} conn/s with stats on`,
        );
        table(['program', 'runs', 'runs/conn', 'ns/run', 'ns/conn'], rows);
        summary.push([tool.name, totNs / N]);
        if (bulk) {
          const each = bulk.progs
            .filter((x) => x.cnt)
            .map((x) => `${x.name} ${fint(x.cnt / bulk.secs)} runs/s x ${fx(x.ns / x.cnt, 0)} ns`);
          console.log(
            `  during one iperf3 loopback transfer (${fx(bulk.gbps)} Gbit/s, ${bulk.secs.toFixed(1)} s): ${each.join(', ')}`,
          );
          note(
            `${tool.name === 'nettracer' ? '' : `${tool.name}: `}BPF time during a bulk transfer: ${fx(bulk.msPerSec, 1)} ms per second, ${fx(bulk.msPerSec / 10, 1)}% of one CPU (the throughput ratio's expected cost, which that ratio's noise hides)`,
          );
        }
      } finally {
        t.kill();
        rmSync(out, { force: true });
      }
    }
  } finally {
    restore();
  }
  console.log("  (run_cnt/run_time_ns deltas of the tracer's own programs; hooks fire for every process on the host,");
  console.log('   so concurrent activity adds runs)');
  note(`BPF time per connection: ${summary.map(([t, ns]) => `${t} ${fx(ns, 0)} ns`).join(', ')}`);
}

/** BPF run time of the given programs while one iperf3 loopback transfer runs (stats must be on). */
async function bulkBpfTime(
  ids: ReadonlySet<number>,
  secs: number,
): Promise<{ gbps: number; secs: number; progs: { name: string; cnt: number; ns: number }[]; msPerSec: number }> {
  const server = await startIperfServer([]);
  try {
    const before = progStats(ids);
    const t0 = process.hrtime.bigint();
    const gbps = await iperf([], '127.0.0.1', server.port, secs);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const progs = [...progDelta(before, progStats(ids))].map(([name, x]) => ({ name, ...x }));
    return { gbps, secs: wall, progs, msPerSec: sum(progs.map((x) => x.ns)) / 1e6 / wall };
  } finally {
    await server.stop();
  }
}
