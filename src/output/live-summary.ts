// `summarize --live` as an output format: records go into an Aggregator,
// and each window that closes (checked every quarter second, and at the end)
// is printed.
import type { NettracerRecord, SummaryRecord } from '../generated/records.js';
import type { Aggregator } from '../summary/aggregate.js';
import type { OutputFormat } from './format.js';

export class LiveSummaryFormat implements OutputFormat {
  readonly tickMs = 250;

  constructor(
    private readonly agg: Aggregator,
    private readonly render: (rows: SummaryRecord[]) => string,
  ) {}

  begin(nowMs: number): string {
    this.agg.begin(nowMs);
    return '';
  }

  records(records: readonly NettracerRecord[]): string {
    let out = '';
    for (const r of records) out += this.render(this.agg.add(r));
    return out;
  }

  tick(nowMs: number): string {
    return this.render(this.agg.tick(nowMs));
  }

  end(nowMs: number): string {
    return this.render(this.agg.finish(nowMs));
  }
}
