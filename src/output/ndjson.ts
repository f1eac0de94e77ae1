// The NDJSON format for records read as objects (with -l, the log file also
// wants objects). The fast path writes bytes straight from the kernel's
// records instead (src/encode/ndjson-writer.ts).
import type { NettracerRecord } from '../generated/records.js';

export function toNdjson(records: readonly NettracerRecord[]): string {
  let out = '';
  for (const r of records) out += JSON.stringify(r) + '\n';
  return out;
}
