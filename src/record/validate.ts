// Records checked against the published schemas (schemas/v1, generated from
// fields.ts), for input nettracer reads (summarize, validate). ajv is loaded
// and the schemas compiled on first use, so other commands never pay for it.
// Each line's type picks its schema: record.schema.json's oneOf would say
// "must match exactly one schema" where the type's own says what is wrong.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ROOT } from '../root.js';
import { RECORDS, type RecordType } from './fields.js';
import { shown } from './shown.js';

export const SCHEMA_DIR = join(ROOT, 'schemas', 'v1');

/** What is wrong with a value as a record, or undefined when it is a valid one. */
export type RecordCheck = (value: unknown) => string | undefined;

/** The record types of a capture: the lines `nettracer trace` writes. */
export const STREAM_TYPES: readonly RecordType[] = RECORDS.filter((r) => r.stream).map((r) => r.type);

/**
 * A check for records of `types` (default: every type with a schema).
 * Messages are one line, and show at most a short, escaped piece of the input.
 */
export async function recordCheck(types: readonly RecordType[] = RECORDS.map((r) => r.type)): Promise<RecordCheck> {
  const [{ Ajv2020 }, formats] = await Promise.all([import('ajv/dist/2020.js'), import('ajv-formats')]);
  const addFormats = (formats.default ?? formats) as unknown as (
    ajv: InstanceType<typeof Ajv2020>,
    only: string[],
  ) => void;
  // The schemas are checked against JSON Schema's meta-schema by the tests
  // (test/helpers/schemas.ts); doing it again here, loading the meta-schemas,
  // tripled the compile time (63 ms against 19 ms for all types, warm).
  const ajv = new Ajv2020({ strict: true, allErrors: false, meta: false, validateSchema: false });
  addFormats(ajv, ['date-time']);
  const load = (name: string) => JSON.parse(readFileSync(join(SCHEMA_DIR, `${name}.schema.json`), 'utf8')) as object;
  ajv.addSchema(load('common'));
  const byType = new Map<string, ValidateFunction>();
  for (const r of RECORDS) {
    const schema = load(r.type);
    if (types.includes(r.type)) byType.set(r.type, ajv.compile(schema));
  }
  const known = types.join(', ');
  const all = RECORDS.map((r) => r.type) as readonly string[];

  return (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
    const type = (value as { type?: unknown }).type;
    if (type === undefined) return 'no type field';
    if (typeof type !== 'string') return `type must be a string (got ${shown(type)})`;
    const validate = byType.get(type);
    if (!validate) {
      return all.includes(type)
        ? `a ${type} record is not one this reads (${known})`
        : `unknown type ${shown(type)} (known: ${known})`;
    }
    if (validate(value)) return undefined;
    return `${type} record: ${describe(validate.errors?.[0], value)}`;
  };
}

/** ajv's first error as a sentence: which field, what it must be, what it is. */
function describe(e: ErrorObject | undefined, record: unknown): string {
  if (!e) return 'invalid';
  const path = e.instancePath.slice(1).split('/').join('.');
  switch (e.keyword) {
    case 'required':
      return `${dotted(path, (e.params as { missingProperty: string }).missingProperty)} is missing`;
    case 'unevaluatedProperties':
      return `unknown field ${shown(dotted(path, (e.params as { unevaluatedProperty: string }).unevaluatedProperty))}`;
    case 'additionalProperties':
      return `unknown field ${shown(dotted(path, (e.params as { additionalProperty: string }).additionalProperty))}`;
  }
  const what =
    e.keyword === 'enum'
      ? `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
      : e.message;
  return `${path || 'the record'} ${what} (got ${shown(at(record, e.instancePath))})`;
}

const dotted = (path: string, name: string) => (path ? `${path}.${name}` : name);

function at(value: unknown, pointer: string): unknown {
  let v = value;
  for (const key of pointer.split('/').slice(1)) {
    const k = key.replace(/~1/g, '/').replace(/~0/g, '~');
    v = typeof v === 'object' && v !== null && Object.hasOwn(v, k) ? (v as Record<string, unknown>)[k] : undefined;
  }
  return v;
}
