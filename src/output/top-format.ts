// `nettracer top` as an output format. Its metrics walks are taken in memory
// (`metrics`: the session hands each walk chunk to the live rates, no record
// per connection), and each ends a period: cycle() turns what the walk and
// the records of events that came meanwhile added up into a sample for the
// screen. Nothing goes through the trace's output stream: the screen is drawn
// by the command, which also redraws on keys and resizes.
import type { NettracerRecord } from '../generated/records.js';
import { LiveRates, type Sample } from '../summary/rates.js';
import type { OutputFormat } from './format.js';

export class TopFormat implements OutputFormat {
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

  /** The walks go to the rates themselves. */
  get metrics(): LiveRates {
    return this.rates;
  }

  begin(nowMs: number): string {
    this.rates.start(nowMs);
    return '';
  }

  records(records: readonly NettracerRecord[]): string {
    const now = Date.now();
    for (const r of records) this.rates.record(r, now);
    return '';
  }

  cycle(nowMs: number): string {
    if (!this.paused()) this.onSample(this.rates.sample(nowMs));
    return '';
  }
}
