// soak: a million connections (--soak-n) under one nettracer, sampled as it
// goes: does its memory stay flat, its table empty out, nothing get lost (bench/README.md).
import { rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { mapMemory, requireBpftool, tableEntries } from './lib/bpftool.js';
import { tmpFile } from './lib/cleanup.js';
import { spawnTracked, waitExit, waitFor, which } from './lib/exec.js';
import { type ChurnResult, parseChurn } from './lib/generators.js';
import { connectionMaps } from './lib/hooks.js';
import { listenPortOf } from './lib/net.js';
import { ChurnTail } from './lib/ndjson-tail.js';
import type { Options } from './lib/options.js';
import { CHURN } from './lib/paths.js';
import { bpfIds, cpuSeconds, memStatus } from './lib/proc.js';
import { fint, fx, note, table, verdict } from './lib/report.js';
import { median, sum } from './lib/stats.js';
import { startNettracer } from './lib/tracers.js';

interface Sample {
  s: number;
  phase: 'churn' | 'after';
  /** Connections of the churn runs finished. */
  done: number;
  /** The churn's connect records read so far. */
  seen: number;
  rss: number;
  hwm: number;
  cpu: number;
  /** connections_tracked of the latest stats record, and when it was written. */
  tracked: number;
  statsAt: number;
  /** Entries in the connection table now. */
  live: number;
  records: number;
  bytes: number;
}

/** The ids of the tracer's connection table maps (all of them found), or undefined. */
function findTableMaps(maps: ReadonlySet<number>): { fast_keys: number; conns: number } | undefined {
  const own = mapMemory(maps);
  const id = (name: string): number | undefined => own.find((m) => m.name === name)?.id;
  if (connectionMaps().some((name) => id(name) === undefined)) return undefined;
  // tableEntries() counts the hash map's entries and the array's occupied slots.
  const fastKeys = id('fast_keys');
  const conns = id('conns');
  return fastKeys !== undefined && conns !== undefined ? { fast_keys: fastKeys, conns } : undefined;
}

export async function benchSoak(o: Options): Promise<void> {
  requireBpftool();
  const N = o.soakN;
  const CHUNK = Math.min(o.soakChunk, N);
  const EVERY = o.soakSample * 1000;
  // About 1.3 KB of output per connection (4 records); ask for twice that.
  const dir = tmpdir();
  const st = statfsSync(dir);
  const avail = st.bavail * st.bsize;
  const need = N * 1400;
  console.log(
    `${fint(N)} connections (sequential churn runs of ${fint(CHUNK)}) under one nettracer, sampled every ${o.soakSample} s; ` +
      `output ~${fx(need / 2 ** 30, 1)} GiB in ${dir} (${fx(avail / 2 ** 30, 1)} GiB available), deleted at the end`,
  );
  if (avail < 2 * need)
    throw new Error(
      `not enough space in ${dir}: ${fx(avail / 2 ** 30, 1)} GiB available, want ${fx((2 * need) / 2 ** 30, 1)}`,
    );
  const haveSs = !!which('ss');
  if (!haveSs) note("ss (iproute2) not found: each run's records are counted once it ends (progress is coarser)");

  const out = tmpFile('soak.ndjson');
  const t = await startNettracer(out, ['--interval', '10', '--stats-interval', '10']);
  const samples: Sample[] = [];
  const runs: ChurnResult[] = [];
  try {
    const tableMaps = findTableMaps(bpfIds(t.pid).maps);
    if (!tableMaps) note('the tracer\'s connection table maps were not found: "live" column empty');
    const ports = new Set<number>();
    const tail = new ChurnTail(out, ports);
    const t0 = Date.now();
    let done = 0; // connections of finished churn runs
    let phase: Sample['phase'] = 'churn';
    // While a churn run has started but its port is not known yet, the tail
    // is not read: its records would go uncounted.
    let holdTail = false;
    const sample = (): void => {
      if (!holdTail) tail.poll();
      const m = memStatus(t.pid);
      const s: Sample = {
        s: (Date.now() - t0) / 1000,
        phase,
        done,
        seen: tail.counts.connect,
        rss: m.rssMiB,
        hwm: m.hwmMiB,
        cpu: cpuSeconds(t.pid),
        tracked: tail.stats?.connections_tracked ?? NaN,
        statsAt: tail.stats ? Date.parse(tail.stats.timestamp) : NaN,
        live: tableEntries(tableMaps),
        records: tail.lines,
        bytes: tail.offset,
      };
      samples.push(s);
      console.error(
        `  soak ${fx(s.s, 0)} s: ${fint(s.seen)} conns seen, ${fint(done)} done, RSS ${fx(s.rss, 1)} MiB, CPU ${fx(s.cpu, 1)} s, tracked ${fint(s.tracked)} (live ${fint(s.live)}), ${fint(s.records)} records`,
      );
    };
    let stopSampler = false;
    let samplerError: Error | undefined;
    const sampler = (async () => {
      let next = Date.now();
      while (!stopSampler) {
        try {
          sample();
        } catch (err) {
          samplerError = err instanceof Error ? err : new Error(String(err));
          return;
        }
        next += EVERY;
        while (!stopSampler && Date.now() < next) await sleep(Math.min(100, next - Date.now()));
      }
    })();

    try {
      while (done < N) {
        if (samplerError) throw samplerError;
        const n = Math.min(CHUNK, N - done);
        holdTail = true;
        const p = spawnTracked(CHURN, [String(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
        p.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        if (haveSs) {
          while (p.child.exitCode === null && p.child.signalCode === null) {
            const port = listenPortOf(p.pid);
            if (port) {
              ports.add(port);
              holdTail = false;
              break;
            }
            await sleep(10);
          }
        }
        const r = await waitExit(p, 15 * 60000);
        if (r.error || r.code !== 0)
          throw new Error(`churn exited ${r.error?.message ?? r.code ?? r.signal}: ${stderr.trim()}`);
        const c = parseChurn(stdout);
        if (holdTail) ports.add(c.port);
        else if (!ports.has(c.port)) throw new Error(`churn reported port ${c.port}, ss said otherwise`);
        holdTail = false;
        runs.push(c);
        done += c.connections;
      }
      const churnEnd = Date.now();
      phase = 'after';
      // The tracer catches up, then a periodic stats record taken after the
      // churn shows the table with nothing open.
      await tail.settle(() => tail.lifecycle >= 4 * N, { stallMs: 5000, timeoutMs: 180000 });
      await waitFor(
        () => {
          tail.poll();
          return tail.stats !== undefined && Date.parse(tail.stats.timestamp) > churnEnd + 1000;
        },
        { timeoutMs: 30000, intervalMs: 500, what: 'a stats record after the churn' },
      ).catch((err: Error) => note(err.message));
      if (Date.now() - t0 - samples[samples.length - 1].s * 1000 > 1000) sample();
    } finally {
      stopSampler = true;
      await sampler;
    }
    if (samplerError) throw samplerError;
    const hwm = memStatus(t.pid).hwmMiB;
    const cpuEnd = cpuSeconds(t.pid);
    await t.stop();
    tail.poll();
    const final = tail.stats?.final ? tail.stats : undefined;
    const fileBytes = tail.offset;

    // ---- table
    let shown = samples.map((_, i) => i);
    if (samples.length > 40) {
      const k = Math.ceil(samples.length / 40);
      shown = shown.filter((i) => i % k === 0 || i === samples.length - 1);
    }
    const rows = shown.map((i) => {
      const s = samples[i];
      return [
        fx(s.s, 0),
        s.phase,
        fint(s.done),
        fint(s.seen),
        fx(s.rss, 1),
        fx(s.cpu, 1),
        Number.isFinite(s.tracked) ? `${fint(s.tracked)} @${fx((s.statsAt - t0) / 1000, 0)}` : '-',
        fint(s.live),
        fint(s.records),
        fx(s.bytes / 2 ** 20, 0),
      ];
    });
    rows.push([
      'final',
      'stopped',
      fint(done),
      fint(tail.counts.connect),
      '-',
      fx(cpuEnd, 1),
      final ? fint(final.connections_tracked) : '(none)',
      '-',
      fint(tail.lines),
      fx(fileBytes / 2 ** 20, 0),
    ]);
    table(
      ['t s', 'phase', 'conns done', 'conns seen', 'RSS MiB', 'CPU s', 'tracked @t', 'live', 'records', 'file MiB'],
      rows,
    );
    if (shown.length < samples.length)
      console.log(`  (${shown.length} of ${samples.length} samples shown, evenly spaced)`);
    console.log('  (conns done: connections of the churn runs finished so far (runs of ' + fint(CHUNK) + ');');
    console.log(
      "   conns seen: connect records of the churn read from the output so far; CPU: the tracer's time on CPU since it started;",
    );
    console.log(
      '   tracked @t: connections_tracked of the latest "stats" record (--stats-interval 10) and when it was',
    );
    console.log(
      "   written; live: entries in the tracer's connection table (bpftool map dump) at the sample; records: lines written)",
    );
    const rates = runs.map((c) => c.rate);
    const churnS = sum(runs.map((c) => c.seconds));
    note(
      `soak: ${runs.length} churn runs, ${fint(sum(runs.map((c) => c.connections)))} connections in ${fx(churnS, 0)} s of churn, ` +
        `rate median ${fint(median(rates))}/s (min ${fint(Math.min(...rates))}, max ${fint(Math.max(...rates))}), ` +
        `${fint(sum(runs.map((c) => c.retries)))} connect retries; tracer CPU ${fx(cpuEnd, 1)} s, ${fx(((cpuEnd - samples[0].cpu) / N) * 1e6, 1)} us/conn after attaching; ` +
        `VmHWM ${fx(hwm, 1)} MiB; output ${fx(fileBytes / 2 ** 30, 2)} GiB (${fint(fileBytes / N)} B/conn)`,
    );

    // ---- verdicts
    // RSS: the garbage collector makes it a sawtooth, so single samples say
    // little; compare the peaks of the two halves of the run (by connections
    // seen). A leak of L bytes per connection raises the second half's peak
    // by about L x N/2.
    const first = samples.filter((s) => s.phase === 'churn' && s.seen < N / 2).map((s) => s.rss);
    const second = samples.filter((s) => s.seen >= N / 2 || s.phase !== 'churn').map((s) => s.rss);
    if (first.length < 2 || second.length < 2) {
      verdict(
        'soak: RSS flat',
        undefined,
        `too few samples (${first.length} in the first half, ${second.length} in the second): raise --soak-n or lower --soak-sample`,
      );
    } else {
      const m1 = Math.max(...first);
      const m2 = Math.max(...second);
      const detectable = (0.15 * m1 * 2 ** 20) / (N / 2);
      verdict(
        'soak: RSS flat',
        m2 <= 1.15 * m1,
        `max RSS second half ${fx(m2, 1)} MiB <= 1.15 x first half ${fx(m1, 1)} MiB (ratio ${fx(m2 / m1, 3)}; ` +
          `${first.length}+${second.length} samples; a leak of ~${fx(detectable, 0)} B/conn would fail)`,
      );
    }
    const live = samples[samples.length - 1].live;
    verdict(
      'soak: table occupancy returns to ~0 after churn',
      final ? final.connections_tracked <= 100 : false,
      final
        ? `connections_tracked ${fint(final.connections_tracked)} in the final stats record (<= 100), ${fint(live)} entries in the connection table after the churn`
        : 'no final stats record',
    );
    const found = tail.lifecycle;
    verdict(
      'soak: nothing lost',
      // As for the ceiling: a skipped program run is a loss only if a record is missing.
      found === 4 * N && final?.records_lost === 0,
      `${fint(found)} of ${fint(4 * N)} connect/accept/close records of the churn (${fint(tail.counts.connect)}/${fint(tail.counts.accept)}/${fint(tail.counts.close)}), ` +
        `records_lost ${final ? fint(final.records_lost) : '?'}, connections_untracked ${final ? fint(final.connections_untracked) : '?'} and hook_misses ${final ? fint(final.hook_misses) : '?'} in the final stats record` +
        (tail.other ? `; ${fint(tail.other)} records of other processes on the churn ports not counted` : '') +
        (tail.bad ? `; ${tail.bad} unparsable lines` : ''),
    );
  } finally {
    t.kill();
    rmSync(out, { force: true });
  }
}
