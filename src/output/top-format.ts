// `nettracer top` as an output format: records feed the per-connection rates,
// and every metrics walk (one per --refresh) ends a period: its sample goes to
// the screen. Nothing goes through the trace's output stream: the screen is
// drawn by the command, which also redraws on keys and resizes.
import type { NettracerRecord } from '../generated/records.js';
import { ConnectionRates, type Sample } from '../summary/rates.js';
import type { OutputFormat } from './format.js';

export class TopFormat implements OutputFormat {
  private readonly rates = new ConnectionRates();

  constructor(private readonly onSample: (sample: Sample) => void) {}

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
    this.onSample(this.rates.sample(nowMs));
    return '';
  }
}
