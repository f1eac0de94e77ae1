// The options of a bench run (parsed by bench/run.ts).

/** The benchmarks run by default, in this order. */
export const ALL = ['churn', 'throughput', 'bpfstats', 'ceiling', 'startup', 'memory', 'top', 'agent'] as const;
/**
 * Run only when named: soak takes several minutes and writes ~1.3 GB to /tmp;
 * walk about 10 minutes; million holds 1,000,000 connection ends (about 5 GB of kernel memory).
 */
export const EXTRA = ['soak', 'walk', 'million'] as const;
/** The parts of the walk benchmark, in the order they run. */
export const WALK_PARTS = ['streams', 'files', 'conns'] as const;
export type WalkPart = (typeof WALK_PARTS)[number];
export type BenchName = (typeof ALL)[number] | (typeof EXTRA)[number];

export interface Options {
  benches: BenchName[];
  /** Connections per churn run. */
  n: number;
  rounds: number;
  iperfSeconds: number;
  tputRounds: number;
  levels: number[];
  sizes: number[];
  /** nettracer --interval for memory. */
  interval: number;
  cpuProf?: string;
  decompose: boolean;
  soakN: number;
  soakChunk: number;
  soakSample: number;
  /** walk: unrelated open files held for the walk's cost. */
  walkFiles: number;
  /** walk: loopback pairs held open (2 tracked ends each). */
  walkSizes: number[];
  /** walk: the parts to run (default all). */
  walkParts: WalkPart[];
  /** million: tracked connection ends. */
  millionEnds: number;
  /** Another checkout of nettracer, built, measured beside this one (churn, bpfstats, walk, million). */
  baseline?: string;
}
