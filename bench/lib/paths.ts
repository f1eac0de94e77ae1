// Where the bench finds what it runs: this checkout, the generators it compiles, the hooks-only object.
import { join } from 'node:path';
import { ROOT } from '../../src/root.js';

export { ROOT };
export const BENCH = join(ROOT, 'bench');
/** The C generators, compiled on first use (git-ignored). */
export const BUILD = join(BENCH, '.build');
export const CHURN = join(BUILD, 'churn');
export const HOLD = join(BUILD, 'holdconns');
/** The same BPF hooks, every program returning at once (make -C bpf hooks-only). */
export const HOOKS_ONLY = join(ROOT, 'bpf', '.output', 'hooks-only.bpf.o');
