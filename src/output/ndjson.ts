// NDJSON: one record per line. A plain JSON.stringify per record, joined per
// batch: the batch is written with one write() call.
import type { NettracerRecord } from '../generated/records.js';

export function toNdjson(records: readonly NettracerRecord[]): string {
  let out = '';
  for (const r of records) out += JSON.stringify(r) + '\n';
  return out;
}
