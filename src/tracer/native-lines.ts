// NDJSON straight from the kernel's records: native/ndjson.h writes the lines
// it can (nearly all of a busy stream) into the sink's own buffer, about
// fifteen times faster than JavaScript; RecordBuilder writes the rest in
// place, and teaches the encoder each new owner's container fields so the
// next records of that owner are the encoder's too.
import type { RecordView } from './decode.js';
import type { EncoderOptions, NativeNdjsonEncoder } from './native.js';
import type { RecordBuilder } from './records.js';
import type { RecordSink } from './sink.js';

export type LineSink = RecordSink & Required<Pick<RecordSink, 'room' | 'wrote'>>;

/** Room asked of the sink before each native call: a few hundred lines. */
const ROOM = 256 * 1024;
const STOP_HOLE = 1;

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
    const n = view.batch(batch);
    for (let i = 0; i < n; ) {
      const { buf, at } = sink.room(ROOM);
      const [next, bytes, stop] = this.encoder.encodeInto(batch, i, buf, at);
      sink.wrote(bytes, next - i);
      i = next;
      if (stop === STOP_HOLE) {
        const k = view.at(i++);
        this.builder.write(k, sink);
        this.teach(k.cgroupId, k.pid);
      }
    }
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
