// Reading the kernel's view of BPF programs and maps through bpftool; the bpf_stats_enabled knob.
import { readFileSync, writeFileSync } from 'node:fs';
import { onCleanup } from './cleanup.js';
import { sh, which } from './exec.js';
import { arr, count, num, obj, str } from './json.js';

export function requireBpftool(): void {
  if (!which('bpftool')) throw new Error('bpftool not found (apt-get install -y bpftool)');
}

/** `bpftool ARGS --json`, parsed. */
export function bpftool(args: string[]): unknown {
  return JSON.parse(sh('bpftool', [...args, '--json'])) as unknown;
}

export interface ProgStat {
  name: string;
  /** run_cnt, run_time_ns (counted only while kernel.bpf_stats_enabled is on), recursion_misses. */
  cnt: number;
  ns: number;
  misses: number;
}

/** The counters of the given program ids, keyed by id. */
export function progStats(ids: ReadonlySet<number>): Map<number, ProgStat> {
  const out = new Map<number, ProgStat>();
  for (const x of arr(bpftool(['prog', 'show']), 'bpftool prog show')) {
    const p = obj(x, 'bpftool prog show');
    if (ids.has(num(p, 'id')))
      out.set(num(p, 'id'), {
        name: str(p, 'name'),
        cnt: count(p, 'run_cnt'),
        ns: count(p, 'run_time_ns'),
        misses: count(p, 'recursion_misses'),
      });
  }
  return out;
}

/** What ran between two progStats() readings, summed per program name. */
export function progDelta(
  before: Map<number, ProgStat>,
  after: Map<number, ProgStat>,
): Map<string, { cnt: number; ns: number }> {
  const d = new Map<string, { cnt: number; ns: number }>();
  for (const [id, a] of after) {
    const b = before.get(id) ?? { cnt: 0, ns: 0 };
    const e = d.get(a.name) ?? { cnt: 0, ns: 0 };
    d.set(a.name, { cnt: e.cnt + a.cnt - b.cnt, ns: e.ns + a.ns - b.ns });
  }
  return d;
}

export interface MapMemory {
  id: number;
  name: string;
  type: string;
  /** bytes_memlock */
  bytes: number;
  max: number;
}

export function mapMemory(ids: ReadonlySet<number>): MapMemory[] {
  return arr(bpftool(['map', 'show']), 'bpftool map show')
    .map((x) => obj(x, 'bpftool map show'))
    .filter((m) => ids.has(num(m, 'id')))
    .map((m) => ({
      id: num(m, 'id'),
      name: str(m, 'name'),
      type: str(m, 'type'),
      bytes: count(m, 'bytes_memlock'),
      max: num(m, 'max_entries'),
    }));
}

/**
 * Entries in the connection table now (bpf/nettracer.bpf.c): the hash map
 * `conns`'s, plus the occupied slots (non-zero keys) of the array `fast_keys`;
 * NaN when it cannot be read.
 */
export function tableEntries(maps: { fast_keys: number; conns: number } | undefined): number {
  if (!maps) return NaN;
  try {
    const dump = (id: number): unknown[] => arr(bpftool(['map', 'dump', 'id', String(id)]), 'bpftool map dump');
    let slots = 0;
    for (const e of dump(maps.fast_keys)) {
      const keys = arr(obj(obj(obj(e, 'fast_keys entry').formatted, 'formatted').value, 'value').key, 'key');
      slots += keys.filter((k) => k !== 0).length;
    }
    return dump(maps.conns).length + slots;
  } catch {
    return NaN;
  }
}

const STATS_KNOB = '/proc/sys/kernel/bpf_stats_enabled';

/** Whether kernel.bpf_stats_enabled is on (program run times are counted). */
export const statsOn = (): boolean => readFileSync(STATS_KNOB, 'utf8').trim() === '1';

/** Turns on kernel.bpf_stats_enabled (run_time_ns); returns the undo, which also runs at clean-up. */
export function enableBpfStats(): () => void {
  const prev = readFileSync(STATS_KNOB, 'utf8').trim();
  writeFileSync(STATS_KNOB, '1');
  return onCleanup('restore kernel.bpf_stats_enabled', () => writeFileSync(STATS_KNOB, prev));
}

/**
 * Every map of a running tracer (the connection table, its health counters)
 * dumped as JSON to `prefix`-<name>.json, for a round whose records do not
 * add up: where the missing connection's entry went. Returns the files.
 */
export function dumpMaps(ids: ReadonlySet<number>, prefix: string): string[] {
  const files: string[] = [];
  for (const x of arr(bpftool(['map', 'show']), 'bpftool map show')) {
    const m = obj(x, 'bpftool map show');
    const id = num(m, 'id');
    if (!ids.has(id)) continue;
    const file = `${prefix}-${str(m, 'name')}.json`;
    writeFileSync(file, sh('bpftool', ['map', 'dump', 'id', String(id), '--json']));
    files.push(file);
  }
  return files;
}
