// nettracer's BPF program and map names, from its hook table (native/hooks.cc),
// the table `nettracer check` and the man page's KERNEL HOOKS section show.
// Loaded on first use: --help and the benchmarks that do not need it never load the addon.
import { loadNative } from '../../src/tracer/native.js';

/** The BPF programs, in the table's order: set_state, ... */
export const hookPrograms = (): string[] =>
  loadNative()
    .hookTable()
    .hooks.map((h) => h.program);

/** The maps that make up the connection table: fast_keys, fast_conns, conns. */
export const connectionMaps = (): string[] => loadNative().hookTable().connectionMaps;
