// A metrics walk read in memory: its metrics records read in place, one view
// moving along the chunk, with no NDJSON line or record object per connection
// (a live view's rates, src/summary/rates.ts; the agent's aggregation).
import { KIND, OFF, RECORD_SIZE } from '../generated/wire.js';
import { RecordView } from './decode.js';

/**
 * The metrics records of a walk chunk, each given to `take` with `view` on
 * it; returns the indexes of the records not taken (not metrics, or
 * refused), which go to the writer as records.
 */
export function takeMetrics(view: RecordView, chunk: Buffer, take: (v: RecordView) => boolean): number[] {
  const n = view.batch(chunk);
  const others: number[] = [];
  const metrics = KIND.metrics;
  for (let i = 0; i < n; i++) {
    if (chunk[i * RECORD_SIZE + OFF.kind] !== metrics || !take(view.at(i))) others.push(i);
  }
  return others;
}
