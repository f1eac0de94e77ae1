// `nettracer top` as an output format. Its metrics walks are taken in memory
// (`metrics`: the session's walks fill it, no record per connection), and
// each ends a period: cycle() turns the walk's
// table and the records of events that came meanwhile into a sample for the
// screen. Nothing goes through the trace's output stream: the screen is drawn
// by the command, which also redraws on keys and resizes.
import type { NettracerRecord } from '../generated/records.js';
import { LiveRates, type Sample } from '../summary/rates.js';
import { MetricsRates } from '../tracer/rates.js';
import type { OutputFormat } from './format.js';

export class TopFormat implements OutputFormat {
  readonly metrics = new MetricsRates();
  private readonly rates: LiveRates;

  /**
   * @param paused while true, a walk ends no period: the screen keeps its sample (its objects are not updated).
   * @param recordsOnly only connections whose opening record was written (--container).
   */
  constructor(
    private readonly onSample: (sample: Sample) => void,
    private readonly paused: () => boolean = () => false,
    recordsOnly = false,
  ) {
    this.rates = new LiveRates(5000, recordsOnly);
  }

  begin(nowMs: number): string {
    this.rates.begin(nowMs);
    return '';
  }

  records(records: readonly NettracerRecord[]): string {
    const now = Date.now();
    for (const r of records) this.rates.add(r, now);
    return '';
  }

  cycle(nowMs: number): string {
    if (!this.paused()) this.onSample(this.rates.sample(nowMs, this.metrics));
    return '';
  }
}
