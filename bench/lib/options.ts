// The options of a bench run (parsed by bench/run.ts).

/** The benchmarks run by default, in this order. */
export const ALL = ['churn', 'throughput', 'bpfstats', 'ceiling', 'startup', 'memory', 'top', 'agent'] as const;
/** Run only when named: soak takes several minutes and writes ~1.3 GB to /tmp. */
export const EXTRA = ['soak'] as const;
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
  /** Another checkout of nettracer, built, measured beside this one (churn, bpfstats). */
  baseline?: string;
}
