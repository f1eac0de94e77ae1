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
const STOP_NEW_OWNER = 3;

export class NativeLines {
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
      if (stop === STOP_HOLE || stop === STOP_NEW_OWNER) {
        const k = view.at(i++);
        this.builder.write(k, sink);
        if (stop === STOP_NEW_OWNER) this.teach(k.cgroupId, k.pid);
      }
    }
  }

  /** The encoder keeps what it is taught (bounded): nothing to remember here. */
  private teach(cgroupId: number, pid: number): void {
    let fields = '';
    for (const [f, v] of this.builder.containerFields({ cgroupId, pid })) fields += f.key + JSON.stringify(v);
    this.encoder.container(cgroupId, pid, fields);
  }
}
