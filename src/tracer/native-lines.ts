// NDJSON straight from the kernel's records: native/ndjson.h writes the lines
// it can (nearly all of a busy stream) about fifteen times faster than
// JavaScript; RecordBuilder writes the rest (its "holes") in place, and
// teaches the encoder each new owner's container fields so the next records
// of that owner need no hole.
import type { RecordView } from './decode.js';
import type { EncoderOptions, NativeNdjsonEncoder } from './native.js';
import type { RecordBuilder } from './records.js';
import type { RecordSink } from './sink.js';

export type LineSink = RecordSink & Required<Pick<RecordSink, 'lines'>>;

export class NativeLines {
  private readonly taught = new Set<number>();

  constructor(
    private readonly encoder: NativeNdjsonEncoder,
    private readonly builder: RecordBuilder,
  ) {}

  configure(options: EncoderOptions): void {
    this.encoder.configure(options);
  }

  deliver(batch: Buffer, view: RecordView, sink: LineSink): void {
    const { lines, holes } = this.encoder.encode(batch);
    if (holes.length === 0) return sink.lines(lines);
    view.batch(batch);
    let from = 0;
    for (let h = 0; h < holes.length; h += 2) {
      const to = holes[h];
      if (to > from) sink.lines(lines.subarray(from, to));
      from = to;
      const k = view.at(holes[h + 1]);
      this.builder.write(k, sink);
      this.teach(k.cgroupId, k.pid);
    }
    if (lines.length > from) sink.lines(lines.subarray(from));
  }

  private teach(cgroupId: number, pid: number): void {
    const key = cgroupId > 1 ? cgroupId : -1 - pid; // as ContainerResolver keys its cache
    if (this.taught.has(key)) return;
    if (this.taught.size > 100_000) this.taught.clear();
    this.taught.add(key);
    let fields = '';
    for (const [f, v] of this.builder.containerFields({ cgroupId, pid })) fields += f.key + JSON.stringify(v);
    this.encoder.container(cgroupId, pid, fields);
  }
}
