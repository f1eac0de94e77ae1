// top: what a refresh of `nettracer top` costs the tracer, with N open
// loopback connections (2 N tracked ends). Side by side, alternating: top
// refreshing every REFRESH_S, and top that does not refresh in the run
// (--refresh 3600: attached, drawing nothing new); the difference of their CPU
// time over the same length, divided by the refreshes made, is the cost of
// one refresh (a metrics walk over every process's files, the rates, the
// redraw). Each runs in a tmux pane of 160x40, a real terminal.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RUN } from '../test/helpers/launch.js';
import { killPanes, Pane } from '../test/helpers/tmux.js';
import { onCleanup, tmpFile } from './lib/cleanup.js';
import { hold, type Holder } from './lib/generators.js';
import type { Options } from './lib/options.js';
import { cpuSeconds, hardNofile } from './lib/proc.js';
import { fint, fx, table, verdict } from './lib/report.js';
import { median } from './lib/stats.js';

const REFRESH_S = 0.5;
const RUN_S = 6;

/** CPU seconds a top uses over RUN_S, after it drew its first screen. */
async function topCpu(refreshS: number, tag: string): Promise<number> {
  const ready = tmpFile(`top-ready-${tag}`);
  const pane = new Pane(
    `${process.execPath} ${RUN} top -f --refresh ${refreshS} --ready-fd 3 3>${ready}; sleep 60`,
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
  const sizes = [0, ...o.sizes.filter((s) => s <= 10_000)];
  const rounds = Math.max(2, Math.min(o.rounds, 3));
  const rows: string[][] = [];
  let largest = '';
  try {
    for (const size of sizes) {
      // Each holder keeps both ends: 2 descriptors per connection (as bench memory).
      const perHolder = Math.max(100, Math.min(20000, Math.floor((hardNofile() - 100) / 2)));
      const holders: Holder[] = [];
      for (let opened = 0, h = 0; opened < size; h++) {
        const n = Math.min(perHolder, size - opened);
        holders.push(await hold(n, 1, 2 + h));
        opened += n;
      }
      try {
        const refreshing: number[] = [];
        const still: number[] = [];
        for (let r = 0; r < rounds; r++) {
          // The order alternates each round.
          const order = r % 2 ? ['still', 'refreshing'] : ['refreshing', 'still'];
          for (const v of order) {
            if (v === 'refreshing') refreshing.push(await topCpu(REFRESH_S, `${size}-${r}-r`));
            else still.push(await topCpu(3600, `${size}-${r}-s`));
          }
        }
        const refreshes = RUN_S / REFRESH_S;
        const perRefreshMs = ((median(refreshing) - median(still)) / refreshes) * 1000;
        const perEndUs = size ? (perRefreshMs * 1000) / (2 * size) : NaN;
        rows.push([
          fint(size),
          fint(2 * size),
          fx((median(refreshing) / RUN_S) * 100, 1),
          fx((median(still) / RUN_S) * 100, 1),
          fx(perRefreshMs, 2),
          size ? fx(perEndUs, 2) : '-',
        ]);
        if (size)
          largest = `${fx(perRefreshMs, 1)} ms of tracer CPU per refresh with ${fint(2 * size)} tracked ends (${fx(perEndUs, 2)} us each)`;
      } finally {
        for (const h of holders) await h.close();
      }
    }
  } finally {
    undo();
    killPanes();
  }
  table(
    [
      'connections',
      'tracked ends',
      `CPU % refreshing every ${REFRESH_S} s`,
      'CPU % not refreshing',
      'ms per refresh',
      'us per end per refresh',
    ],
    rows,
  );
  console.log(
    `  (medians of ${rounds} runs of ${RUN_S} s each, alternating; a refresh: the metrics walk, the rates and the redraw of a 160x40 pane)`,
  );
  verdict('top refresh cost', undefined, largest || 'no connections measured');
}
