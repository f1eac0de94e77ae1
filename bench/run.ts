// nettracer benchmarks: node --import tsx bench/run.ts [BENCH...] [options]
// Run as root. Every variant is measured side by side in one run, alternating,
// and each target gets a one-line verdict. See bench/README.md.
//
// Everything the benchmarks start or change (tracers, tcplife, iperf3, the
// holders of open connections, network namespaces, kernel.bpf_stats_enabled,
// a tracefs mount) is undone when this ends, also on error or Ctrl-C.
import { existsSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { benchAgent } from './agent.js';
import { benchBpfStats } from './bpfstats.js';
import { benchCeiling } from './ceiling.js';
import { benchChurn } from './churn.js';
import { cleanupAll } from './lib/cleanup.js';
import { compile } from './lib/generators.js';
import { ALL, type BenchName, EXTRA, type Options, WALK_PARTS, type WalkPart } from './lib/options.js';
import { allVerdicts, benchError, fx, noiseLine } from './lib/report.js';
import { benchMemory } from './memory.js';
import { benchSoak } from './soak.js';
import { benchStartup } from './startup.js';
import { benchThroughput } from './throughput.js';
import { benchTop } from './top.js';
import { benchMillion, benchWalk } from './walk.js';

const USAGE = `usage: node --import tsx bench/run.ts [BENCH...] [options]     (as root)
       npm run bench -- [BENCH...] [options]

BENCH: ${ALL.join(', ')} (default: all, in that order);
       ${EXTRA.join(', ')} (only when named)

options:
  --n N               connections per churn run (default 5000)
  --rounds N          churn rounds, each nettracer / tcplife / hooks only, every one
                      between two untraced runs (default 30)
  --baseline DIR      churn, bpfstats, top, walk, million: also measure the nettracer built in checkout DIR
                      (npm run setup done there), in the same rounds, and compare
  --iperf-seconds S   length of each iperf3 run (default 1)
  --tput-rounds N     traced iperf3 runs per path, each between two untraced (default 15)
  --levels L,L,...    concurrent churn generators for ceiling (default 1,2,3)
  --sizes N,N,...     open connections for memory and agent (default 1000,10000,100000;
                      0: none held, the fixed cost),
                      and for top (those up to 10000, and none)
  --interval S        nettracer --interval for memory, --export-interval for agent (default 10)
  --cpu-prof DIR      run the tracer of the churn rounds under node --cpu-prof,
                      profiles written to DIR
  --decompose         churn: also run nettracer stopped after attaching (records
                      left in a 64 MiB ring) and with --output /dev/null, to
                      show what the BPF work, reading the ring and writing the
                      file each cost (two more runs per round)
  --soak-n N          soak: connections in total under one tracer (default 1000000)
  --soak-chunk N      soak: connections per sequential churn run (default 100000)
  --soak-sample S     soak: seconds between samples (default 5)
  --walk-files N      walk: unrelated open files (default 500000)
  --walk-sizes N,...  walk: loopback pairs held open (default 500,5000,50000: 1k, 10k, 100k ends)
  --walk-parts P,...  walk: which parts, of ${WALK_PARTS.join(', ')} (default all)
  --million-ends N    million: tracked connection ends (default 1000000)
  --quick             small sizes for a smoke run (n 2000, 2 rounds, 1 s iperf,
                      sizes 1000,10000, soak-n 100000)
  -h, --help`;

const BENCHES: Record<BenchName, (o: Options) => Promise<void>> = {
  churn: benchChurn,
  throughput: benchThroughput,
  bpfstats: benchBpfStats,
  ceiling: benchCeiling,
  startup: benchStartup,
  memory: benchMemory,
  top: benchTop,
  agent: benchAgent,
  soak: benchSoak,
  walk: benchWalk,
  million: benchMillion,
};
const isBench = (a: string): a is BenchName => a in BENCHES;

/** The options, or undefined after printing the usage for --help. */
function parseArgs(argv: string[]): Options | undefined {
  const o: Options = {
    benches: [],
    n: 5000,
    rounds: 30,
    iperfSeconds: 1,
    tputRounds: 15,
    levels: [1, 2, 3],
    sizes: [1000, 10000, 100000],
    interval: 10,
    cpuProf: undefined,
    decompose: false,
    soakN: 1000000,
    soakChunk: 100000,
    soakSample: 5,
    baseline: undefined,
    walkFiles: 500000,
    walkSizes: [500, 5000, 50000],
    walkParts: [...WALK_PARTS],
    millionEnds: 1000000,
  };
  const num = (v: string, name: string): number => {
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new Error(`${name}: not a positive number: ${v}`);
    return x;
  };
  const int = (v: string, name: string): number => Math.round(num(v, name));
  const list = (v: string, name: string): number[] => v.split(',').map((x) => int(x, name));
  /** A count that may be none (--sizes 0: the fixed cost, with no connections held). */
  const counts = (v: string, name: string): number[] => v.split(',').map((x) => (x.trim() === '0' ? 0 : int(x, name)));
  // Options that take a value: where it goes and how it is read.
  const VALUED: Record<string, (v: string, name: string) => void> = {
    '--n': (v, n) => (o.n = int(v, n)),
    '--rounds': (v, n) => (o.rounds = int(v, n)),
    '--iperf-seconds': (v, n) => (o.iperfSeconds = int(v, n)),
    '--tput-rounds': (v, n) => (o.tputRounds = int(v, n)),
    '--levels': (v, n) => (o.levels = list(v, n)),
    '--sizes': (v, n) => (o.sizes = counts(v, n)),
    '--interval': (v, n) => (o.interval = int(v, n)),
    '--cpu-prof': (v) => (o.cpuProf = resolve(v)),
    '--soak-n': (v, n) => (o.soakN = int(v, n)),
    '--soak-chunk': (v, n) => (o.soakChunk = int(v, n)),
    '--soak-sample': (v, n) => (o.soakSample = num(v, n)),
    '--walk-files': (v, n) => (o.walkFiles = int(v, n)),
    '--walk-sizes': (v, n) => (o.walkSizes = list(v, n)),
    '--walk-parts': (v, n) => {
      const parts = v.split(',');
      const bad = parts.find((x) => !(WALK_PARTS as readonly string[]).includes(x));
      if (bad !== undefined) throw new Error(`${n}: unknown part ${bad} (of ${WALK_PARTS.join(', ')})`);
      o.walkParts = parts as WalkPart[];
    },
    '--million-ends': (v, n) => (o.millionEnds = int(v, n)),
    '--baseline': (v) => {
      const dir = resolve(v);
      if (!existsSync(join(dir, 'bin', 'run.cjs')))
        throw new Error(`--baseline ${dir}: no bin/run.cjs there (a built checkout of nettracer)`);
      o.baseline = dir;
    },
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const setter = VALUED[a];
    if (setter) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      setter(argv[++i], a);
      continue;
    }
    switch (a) {
      case '-h':
      case '--help':
        console.log(USAGE);
        return undefined;
      case '--decompose':
        o.decompose = true;
        break;
      case '--quick':
        Object.assign(o, {
          n: 2000,
          rounds: 2,
          iperfSeconds: 1,
          tputRounds: 2,
          sizes: [1000, 10000],
          soakN: 100000,
          walkFiles: 50000,
          walkSizes: [500, 5000],
          millionEnds: 100000,
        });
        break;
      default:
        if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
        if (!isBench(a)) throw new Error(`unknown benchmark ${a} (one of ${[...ALL, ...EXTRA].join(', ')})`);
        o.benches.push(a);
    }
  }
  if (o.benches.length === 0) o.benches = [...ALL];
  return o;
}

process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}: cleaning up`);
    cleanupAll();
    process.exit(130);
  });
}
process.on('unhandledRejection', (err) => {
  console.error('bench: unhandled rejection:', err);
  process.exit(1);
});

async function main(): Promise<number> {
  let o: Options | undefined;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  if (!o) return 0;
  if (process.getuid?.() !== 0) {
    console.error('bench: run as root (loading BPF programs needs it)');
    return 3;
  }
  compile();
  const started = Date.now();
  console.log(
    `nettracer bench: ${new Date().toISOString()}, ${cpus().length} CPUs, kernel ${release()}, node ${process.version}`,
  );
  console.log(`noise at start: ${noiseLine()}`);
  let failed = 0;
  for (const name of o.benches) {
    const t0 = Date.now();
    console.log(`\n== ${name} ==`);
    try {
      await BENCHES[name](o);
    } catch (err) {
      failed++;
      benchError(name, err);
    }
    console.log(`(${name}: ${fx((Date.now() - t0) / 1000, 0)} s)`);
  }
  console.log(`\n== verdicts ==`);
  for (const v of allVerdicts()) console.log(v);
  console.log(`noise at end: ${noiseLine()}`);
  console.log(`total ${fx((Date.now() - started) / 1000, 0)} s`);
  cleanupAll();
  return failed ? 1 : 0;
}

process.exitCode = await main();
