// ajv validators compiled from the published schemas (schemas/v1).
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type {
  CloseRecord,
  ConnectFailedRecord,
  ExistingRecord,
  LostRecord,
  MetricsRecord,
  NettracerRecord,
  StatsRecord,
} from '../../src/generated/records.js';
import { ROOT } from '../../src/root.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

export const SCHEMA_DIR = join(ROOT, 'schemas', 'v1');

export function loadSchemas(): Record<string, { $id: string; title?: string }> {
  const out: Record<string, { $id: string }> = {};
  for (const f of readdirSync(SCHEMA_DIR)) {
    if (f.endsWith('.schema.json'))
      out[f.replace('.schema.json', '')] = JSON.parse(readFileSync(join(SCHEMA_DIR, f), 'utf8')) as { $id: string };
  }
  return out;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const schemas = loadSchemas();
for (const s of Object.values(schemas)) ajv.addSchema(s);
const anyRecord = ajv.getSchema(schemas.record.$id)!;

type Fields<T> = Omit<T, 'type'>;

/**
 * Any record of the stream, its fields as optional: tests filter records by
 * type and tuple and read the fields they expect (the schema has checked them).
 */
export type AnyRecord = { type: NettracerRecord['type'] } & Partial<
  Fields<ExistingRecord> &
    Fields<MetricsRecord> &
    Fields<CloseRecord> &
    Fields<ConnectFailedRecord> &
    Fields<LostRecord> &
    Fields<StatsRecord>
>;

/** Throws, naming the line and the errors, unless `line` is a valid record of its type. */
export function assertValidLine(line: string): AnyRecord {
  let rec: AnyRecord;
  try {
    rec = JSON.parse(line) as AnyRecord;
  } catch {
    throw new Error(`not JSON: ${line}`);
  }
  const byType = schemas[rec.type] ? ajv.getSchema(schemas[rec.type].$id)! : anyRecord;
  if (!byType(rec)) throw new Error(`invalid ${rec.type} record ${line}: ${ajv.errorsText(byType.errors)}`);
  if (!anyRecord(rec)) throw new Error(`not a record: ${line}: ${ajv.errorsText(anyRecord.errors)}`);
  return rec;
}

/** Every line of a command's output, each a valid record; throws at the first that is not. */
export function assertValidOutput(stdout: unknown): AnyRecord[] {
  return String(stdout)
    .trim()
    .split('\n')
    .map((l) => assertValidLine(l));
}

/** A validator for one schema by name (e.g. "check"); throws with ajv's errors. */
export function validatorFor(name: string): (value: unknown) => void {
  const v = ajv.getSchema(schemas[name].$id)!;
  return (value) => {
    if (!v(value)) throw new Error(`invalid ${name}: ${ajv.errorsText(v.errors)}`);
  };
}
