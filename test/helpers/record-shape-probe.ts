// Run with --allow-natives-syntax (test/unit/record-shape.test.ts): whether
// the record objects the encoder makes have fast properties in V8, as one
// JSON line.
import { bootClock, RecordBuilder } from '../../src/encode/builder.js';
import { ObjectSink } from '../../src/encode/field-sink.js';
import { CLOSE_REASON, KIND } from '../../src/generated/wire.js';
import { SAMPLE_RECORD } from './kernel-batch.js';

// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8's own check, parsed only under the flag
const fast = new Function('o', 'return %HasFastProperties(o)') as (o: unknown) => boolean;

// A close with a reason and an error: the most fields a record has.
const close = { ...SAMPLE_RECORD, kind: KIND.close, close_reason: CLOSE_REASON.reset_received, sk_err: 104 };
const builder = new RecordBuilder(bootClock(1.7e12), { incremental: false, headerSize: false });
const objects = new ObjectSink();
for (const kind of [KIND.connect, KIND.accept, KIND.metrics, KIND.close]) builder.write({ ...close, kind }, objects);
const records = objects.take();
console.log(
  JSON.stringify({
    fields: records.map((r) => Object.keys(r).length),
    objects: records.map((r) => fast(r)),
  }),
);
