// agent: `nettracer agent` (both metric sets, /metrics scraped every
// interval) next to `trace` writing NDJSON to a file, both tracing the same N
// open loopback connections at once: each one's CPU per export interval and
// its memory (bench/README.md). Target: the agent spends no more CPU than
// trace on the same workload, and its memory is bounded by the series cap.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from '../test/helpers/launch.js';
import { tmpFile } from './lib/cleanup.js';
import { churn, hold, type Holder } from './lib/generators.js';
import { freePort } from './lib/net.js';
import type { Options } from './lib/options.js';
import { cpuSeconds, hardNofile, memStatus } from './lib/proc.js';
import { fint, fx, note, table, verdict } from './lib/report.js';
import { startNettracer } from './lib/tracers.js';

/**
 * Intervals per size: the first SETTLE are the warm-up (both processes
 * compile their hot code, which is recompiled a few times while types
 * settle), reported apart; the next INTERVALS are the steady state the
 * verdict is on: an agent runs for days.
 */
const INTERVALS = 5;
/** V8 keeps optimizing code that runs once an interval for about 70 s (--trace-opt): 8 intervals. */
const SETTLE = 8;

/** `trace --output FILE` and the agent (both metric sets, /metrics on a free port), started at once. */
async function startPair(o: Options, out: string) {
  const port = await freePort();
  const t0 = Date.now();
  const readyAfter = { trace: 0, agent: 0 };
  const [trace, agent] = await Promise.all([
    startNettracer(out, ['--interval', String(o.interval), '--stats-interval', '0']).then((t) => {
      readyAfter.trace = (Date.now() - t0) / 1000;
      return t;
    }),
    launch(
      [
        '-f',
        '--prometheus',
        `127.0.0.1:${port}`,
        '--export-interval',
        String(o.interval),
        '--metric-set',
        'both',
        '--stats-interval',
        '0',
      ],
      // Its walk of N existing connections goes through record objects (trace's NDJSON does not): slower to start.
      {
        command: 'agent',
        stdout: 'ignore',
        timeoutMs: 300_000,
        nodeArgs: o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProf] : [],
      },
    ).then((a) => {
      readyAfter.agent = (Date.now() - t0) / 1000;
      return a;
    }),
  ]);
  return {
    trace,
    agent,
    port,
    readyAfter,
    kill: () => {
      trace.kill();
      agent.proc.kill('SIGKILL');
    },
    stop: async () => {
      await Promise.all([trace.stop(), (agent.proc.kill('SIGINT'), agent.proc)]);
    },
  };
}

/** Connections churned for the per-connection comparison. */
const CHURNED = 20_000;

/** CPU ms per 1,000 connections. */
interface Cost {
  trace: number;
  agent: number;
}

/**
 * Connection churn, not held connections: the CPU each spends per 1,000
 * connections opened and closed (connect, accept, two closes), over the
 * churn and the export interval after it (the agent forgets them there).
 * Twice: the first churn after start-up pays for compiling the agent's
 * per-record code (V8 optimizes it once it is hot: most of that churn's
 * CPU, by perf), the second is what a server that keeps churning costs.
 */
async function churnCost(o: Options): Promise<{ cold: Cost; warm: Cost }> {
  const out = tmpFile('agent-trace-churn.ndjson');
  const pair = await startPair(o, out);
  try {
    await sleep(15_000); // past the start-up work of the first ~10 s (bench walk)
    const once = async (): Promise<Cost> => {
      const c0 = { trace: cpuSeconds(pair.trace.pid), agent: cpuSeconds(pair.agent.pid) };
      const r = await churn(CHURNED);
      await sleep((o.interval + 1) * 1000);
      const per = (s: number) => (s * 1e6) / r.connections;
      return { trace: per(cpuSeconds(pair.trace.pid) - c0.trace), agent: per(cpuSeconds(pair.agent.pid) - c0.agent) };
    };
    const cold = await once();
    const warm = await once();
    await pair.stop();
    return { cold, warm };
  } finally {
    pair.kill();
    rmSync(out, { force: true });
  }
}

export async function benchAgent(o: Options): Promise<void> {
  const perHolder = Math.max(100, Math.min(20000, Math.floor((hardNofile() - 100) / 2)));
  if (o.cpuProf) {
    mkdirSync(o.cpuProf, { recursive: true });
    chmodSync(o.cpuProf, 0o777); // the agent drops root after attaching and writes the profile at exit
  }
  const rows: string[][] = [];
  const ratios: number[] = [];
  for (const size of o.sizes) {
    const holders = Math.ceil(size / perHolder);
    const held: Holder[] = [];
    const out = tmpFile(`agent-trace-${size}.ndjson`);
    let stopAll = (): void => {};
    try {
      // Open first: both find them with the same walk of existing connections.
      for (let h = 0, opened = 0; h < holders; h++) {
        const n = Math.ceil((size - opened) / (holders - h));
        held.push(await hold(n, 1, 2 + h));
        opened += n;
      }
      const pair = await startPair(o, out);
      const { trace, agent, port, readyAfter } = pair;
      stopAll = pair.kill;
      const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      // From ready (both), through the warm-up: scraped once an interval, as after it.
      const w0 = { trace: cpuSeconds(trace.pid), agent: cpuSeconds(agent.pid) };
      await sleep(2000);
      for (let i = 0; i < SETTLE; i++) {
        await sleep(o.interval * 1000);
        await scrape();
      }
      const c0 = { trace: cpuSeconds(trace.pid), agent: cpuSeconds(agent.pid) };
      const warm = { trace: (c0.trace - w0.trace) / SETTLE, agent: (c0.agent - w0.agent) / SETTLE };
      let text = '';
      for (let i = 0; i < INTERVALS; i++) {
        await sleep(o.interval * 1000);
        text = await scrape(); // as Prometheus would, once an interval
      }
      const cpu = {
        trace: (cpuSeconds(trace.pid) - c0.trace) / INTERVALS,
        agent: (cpuSeconds(agent.pid) - c0.agent) / INTERVALS,
      };
      const mem = { trace: memStatus(trace.pid), agent: memStatus(agent.pid) };
      const series = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
      ratios.push(cpu.agent / cpu.trace);
      const row = [
        fint(size),
        fx(readyAfter.trace, 1),
        fx(readyAfter.agent, 1),
        fx(warm.trace * 1000, 0),
        fx(warm.agent * 1000, 0),
        fx(cpu.trace * 1000, 0),
        fx(cpu.agent * 1000, 0),
        fx(cpu.agent / cpu.trace, 2),
        fx(mem.trace.rssMiB, 1),
        fx(mem.agent.rssMiB, 1),
        fx(mem.agent.hwmMiB, 1),
        fint(series),
      ];
      rows.push(row);
      console.log(`  N=${row[0]}: ${row.slice(1).join(' ')}`); // as measured: a later size may not finish
      await pair.stop();
    } finally {
      stopAll();
      for (const x of held) x.p.kill('SIGKILL');
      rmSync(out, { force: true });
    }
  }
  console.log(`agent and trace side by side on N open loopback connections (2N sockets), interval ${o.interval} s:`);
  table(
    [
      'N',
      'trace ready s',
      'agent ready s',
      `trace warm-up ms/interval`,
      `agent warm-up ms/interval`,
      'trace CPU ms/interval',
      'agent CPU ms/interval',
      'agent/trace',
      'trace RSS MiB',
      'agent RSS MiB',
      'agent VmHWM',
      'scraped series',
    ],
    rows,
  );
  note(
    `the agent walks in memory, aggregates both metric sets, exports them to /metrics, serves one scrape an interval; warm-up: the first ${SETTLE} intervals after ready; CPU: the ${INTERVALS} after them`,
  );
  const worst = Math.max(...ratios);
  verdict('agent CPU per interval <= trace --output FILE', worst <= 1, `worst ratio ${fx(worst, 2)}`);
  // Not the target (held connections), but what a busy server's agent pays: said beside it.
  const c = await churnCost(o);
  const said = (x: Cost) => `trace ${fx(x.trace, 1)}, agent ${fx(x.agent, 1)} (${fx(x.agent / x.trace, 1)}x)`;
  console.log(
    `churn: ${fint(CHURNED)} loopback connections opened and closed, CPU ms per 1,000 connections: first churn ${said(c.cold)}; again ${said(c.warm)}`,
  );
}
