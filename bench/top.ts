// top: what a refresh of `nettracer top` costs the tracer, with N open
// loopback connections (2 N tracked ends) in a network namespace of their own
// that top follows (--netns: other processes' connections stay out). Side by
// side, alternating: top refreshing every REFRESH_S, and top that does not
// refresh in the run (--refresh 3600: attached, drawing nothing new); the
// difference of their CPU time over the same length, divided by the
// refreshes made, is the cost of one refresh (the metrics walk, the rates,
// the redraw). With --baseline, the other build's top the same way, in the
// same rounds. Each runs in a tmux pane of 160x40, a real terminal.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN } from '../test/helpers/launch.js';
import { killPanes, Pane } from '../test/helpers/tmux.js';
import { onCleanup, tmpFile } from './lib/cleanup.js';
import { hold, type Holder } from './lib/generators.js';
import type { Options } from './lib/options.js';
import { cpuSeconds, hardNofile } from './lib/proc.js';
import { fint, fx, table, verdict } from './lib/report.js';
import { median, rotate } from './lib/stats.js';
import { baselineBuild, type Build, THIS_BUILD } from './lib/tracers.js';
import { createNetns, deleteNetns, netnsInode } from '../test/helpers/netns.js';

const REFRESH_S = 0.5;
const RUN_S = 6;

const NS = `nt-top-bench-${process.pid}`;

/** CPU seconds a top uses over RUN_S, after it drew its first screen. */
async function topCpu(build: Build, netns: number, refreshS: number, tag: string): Promise<number> {
  const ready = tmpFile(`top-ready-${tag}`);
  const pane = new Pane(
    `${process.execPath} ${build.bin ?? RUN} top -f --netns ${netns} --refresh ${refreshS} --ready-fd 3 3>${ready}; sleep 60`,
    160,
    40,
  );
  try {
    const until = Date.now() + 60_000;
    let line = '';
    while (!line.endsWith('\n')) {
      if (Date.now() > until) throw new Error(`top not ready: ${pane.capture().join('\n')}`);
      await sleep(100);
      try {
        line = readFileSync(ready, 'utf8');
      } catch {
        // not yet
      }
    }
    const pid = (JSON.parse(line) as { pid: number }).pid;
    await sleep(1000); // the start-up walk of existing connections is not a refresh
    const c0 = cpuSeconds(pid);
    await sleep(RUN_S * 1000);
    const c1 = cpuSeconds(pid);
    pane.keys('q');
    await pane.waitFor('top to quit', () => !pane.alternate(), 30_000);
    return c1 - c0;
  } finally {
    pane.kill();
  }
}

export async function benchTop(o: Options): Promise<void> {
  const undo = onCleanup('tmux panes of bench top', killPanes);
  createNetns(NS);
  const undoNs = onCleanup(`delete netns ${NS}`, () => deleteNetns(NS));
  const netns = netnsInode(NS);
  const builds = o.baseline ? [THIS_BUILD, baselineBuild(o.baseline)] : [THIS_BUILD];
  const sizes = [0, ...o.sizes.filter((s) => s <= 10_000)];
  const rounds = Math.max(2, Math.min(o.rounds, 3));
  const rows: string[][] = [];
  const largest = new Map<string, { ms: number; us: number; ends: number }>();
  try {
    for (const size of sizes) {
      // Each holder keeps both ends: 2 descriptors per connection (as bench memory).
      const perHolder = Math.max(100, Math.min(20000, Math.floor((hardNofile() - 100) / 2)));
      const holders: Holder[] = [];
      for (let opened = 0, h = 0; opened < size; h++) {
        const n = Math.min(perHolder, size - opened);
        holders.push(await hold(n, 1, 2 + h, NS));
        opened += n;
      }
      try {
        const cpu = new Map<string, number[]>();
        const variants = builds.flatMap((b) => [
          { build: b, refreshS: REFRESH_S, key: `${b.label} refreshing` },
          { build: b, refreshS: 3600, key: `${b.label} still` },
        ]);
        for (let r = 0; r < rounds; r++) {
          // The order rotates each round.
          for (const v of rotate(variants, r)) {
            const x = await topCpu(v.build, netns, v.refreshS, `${size}-${r}-${v.key.replace(' ', '-')}`);
            cpu.set(v.key, [...(cpu.get(v.key) ?? []), x]);
          }
        }
        for (const b of builds) {
          const refreshing = median(cpu.get(`${b.label} refreshing`) ?? []);
          const still = median(cpu.get(`${b.label} still`) ?? []);
          const refreshes = RUN_S / REFRESH_S;
          const perRefreshMs = ((refreshing - still) / refreshes) * 1000;
          const perEndUs = size ? (perRefreshMs * 1000) / (2 * size) : NaN;
          rows.push([
            fint(size),
            fint(2 * size),
            b.label,
            fx((refreshing / RUN_S) * 100, 1),
            fx((still / RUN_S) * 100, 1),
            fx(perRefreshMs, 2),
            size ? fx(perEndUs, 2) : '-',
          ]);
          if (size) largest.set(b.label, { ms: perRefreshMs, us: perEndUs, ends: 2 * size });
        }
      } finally {
        for (const h of holders) await h.close();
      }
    }
  } finally {
    undo();
    killPanes();
    undoNs();
  }
  table(
    [
      'connections',
      'tracked ends',
      'build',
      `CPU % refreshing every ${REFRESH_S} s`,
      'CPU % not refreshing',
      'ms per refresh',
      'us per end per refresh',
    ],
    rows,
  );
  console.log(
    `  (medians of ${rounds} runs of ${RUN_S} s each, the order rotating; a refresh: the metrics walk, the rates and the redraw of a 160x40 pane)`,
  );
  const mine = largest.get('nettracer');
  const base = largest.get('baseline');
  verdict(
    'top refresh (in memory) <= 0.5 us of tracer CPU per tracked end',
    mine === undefined ? undefined : mine.us <= 0.5,
    mine === undefined
      ? 'no connections measured'
      : `${fx(mine.us, 2)} us, ${fx(mine.ms, 1)} ms per refresh with ${fint(mine.ends)} tracked ends` +
          (base ? `; baseline ${fx(base.us, 2)} us, ${fx(base.ms, 1)} ms` : ''),
  );
}
