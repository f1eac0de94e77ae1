// Printing results: number formats, tables, verdicts and notes.
import { loadavg } from 'node:os';
import { childPids } from './cleanup.js';
import { otherActivity } from './proc.js';
import { median, medianInterval } from './stats.js';

/** x with d decimals, or '-' when not a number. */
export const fx = (x: number | undefined, d = 2): string =>
  x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-';
/** x rounded, with thousands separators, or '-'. */
export const fint = (x: number | undefined): string =>
  x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-';

/**
 * "median of per-round ratios 0.927 (96% interval of the median 0.90-0.95)";
 * no interval when too few rounds. With a target: says when the interval
 * holds it, i.e. when this run cannot tell whether the target is met.
 */
export function medianWithInterval(xs: readonly number[], target?: number): string {
  const iv = medianInterval(xs);
  const range = iv ? ` (${Math.floor(iv.coverage * 100)}% interval of the median ${fx(iv.lo, 3)}-${fx(iv.hi, 3)})` : '';
  const undecided = iv && target !== undefined && iv.lo < target && target <= iv.hi;
  return (
    `median of per-round ratios ${fx(median(xs), 3)}${range}` +
    (undecided ? `; the interval holds ${target}: within this run's noise, more rounds would tell` : '')
  );
}

/** A table: the first column left-aligned, the others right-aligned. */
export function table(headers: string[], rows: string[][]): void {
  const cells = [headers, ...rows];
  const w = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    '  ' + r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  console.log(line(headers));
  console.log('  ' + w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

const verdicts: string[] = [];

/** One target's verdict line (pass undefined: N/A); the end of the run repeats them all. */
export function verdict(name: string, pass: boolean | undefined, detail: string): void {
  const s = `VERDICT ${name}: ${pass === undefined ? 'N/A ' : pass ? 'PASS' : 'FAIL'} (${detail})`;
  verdicts.push(s);
  console.log(s);
}

/** A benchmark that could not run: listed with the verdicts. */
export function benchError(name: string, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  console.log(`ERROR ${name}: ${message}`);
  verdicts.push(`ERROR ${name}: ${message.split('\n')[0]}`);
}

export const allVerdicts = (): readonly string[] => verdicts;

export function note(s: string): void {
  console.log(`note: ${s}`);
}

/** The load and other tracing/test processes: the noise a run's figures carry. */
export function noiseLine(): string {
  const others = otherActivity(childPids());
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  return `load average ${load}; ${others.length ? `other tracing/test processes: ${others.length}\n    ${others.join('\n    ')}` : 'no other tracing/test processes seen'}`;
}
