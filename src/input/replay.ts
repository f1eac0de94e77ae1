// A capture played back through an output format, as trace would have printed
// it: the same formatter objects, fed the capture's records in order, with
// the moments trace marks told from the records themselves: the start (the
// first record's time), the end of each metrics walk (a run of metrics
// records ends: a walk is written as one batch), and the end (the last
// record's time). Times are the capture's, never the clock's.
import type { NettracerRecord } from '../generated/records.js';
import type { OutputFormat } from '../output/format.js';

/** Records to text, one call per record; finish() at the end of the input. */
export class Replay {
  private started = false;
  /** The start-up cycle (trace prints one after the walk of existing connections) is done. */
  private firstCycle = false;
  private inWalk = false;
  private lastMs = NaN;

  constructor(private readonly format: OutputFormat) {}

  /** The text this record makes (and any cycle it ends). */
  add(r: NettracerRecord): string {
    const ms = Date.parse(r.timestamp);
    let out = '';
    if (!this.started) {
      this.started = true;
      out += this.format.begin?.(ms) ?? '';
    }
    if (!this.firstCycle && r.type !== 'existing') {
      this.firstCycle = true;
      out += this.format.cycle?.(Number.isNaN(this.lastMs) ? ms : this.lastMs) ?? '';
    }
    if (this.inWalk && r.type !== 'metrics') out += this.format.cycle?.(this.lastMs) ?? '';
    this.inWalk = r.type === 'metrics';
    this.lastMs = Number.isNaN(this.lastMs) ? ms : Math.max(this.lastMs, ms);
    return out + this.format.records([r]);
  }

  /** What the end of the capture prints. */
  finish(): string {
    if (!this.started) return '';
    let out = '';
    if (this.inWalk) out += this.format.cycle?.(this.lastMs) ?? '';
    // trace ends with a last walk and its cycle; a capture does not show a
    // walk that found no connection, so this one is always made.
    out += this.format.cycle?.(this.lastMs) ?? '';
    return out + (this.format.end?.(this.lastMs) ?? '');
  }
}
