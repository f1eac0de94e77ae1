// From the record table (src/record/fields.ts): the published JSON Schemas,
// the TypeScript types and the native encoder's field lists.
import {
  CONNECTION_RECORDS,
  FIELDS,
  fieldsOf,
  GROUPS,
  type FieldDef,
  type GroupName,
  RECORDS,
  type RecordDef,
  recordsOf,
  schemaOf,
  TYPES,
} from '../../src/record/fields.js';
import type { Schema } from '../../src/record/schema.js';
import { banner, type Generated } from './common.js';

const ID_BASE = 'https://nettracer.dev/schemas/v1/';
const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

/** A field's schema where `refBase` leads to the shared types. */
function propertySchema(f: FieldDef, refBase: string): Schema {
  if (typeof f.type !== 'string') return schemaOf(f);
  return f.description
    ? { $ref: `${refBase}#/$defs/${f.type}`, description: f.description }
    : { $ref: `${refBase}#/$defs/${f.type}` };
}

const requiredOf = (fields: FieldDef[]): string[] => fields.filter((f) => !f.optional).map((f) => f.name);

function groupFields(group: GroupName): FieldDef[] {
  return FIELDS.filter((f) => f.in === group);
}

function commonSchema(): Generated {
  const defs: Record<string, Schema> = { ...TYPES };
  for (const [name, g] of Object.entries(GROUPS)) {
    const fields = groupFields(name as GroupName);
    defs[name] = {
      type: 'object',
      description: `${g.description} Part of the ${g.records.join(', ')} records.`,
      required: requiredOf(fields),
      properties: Object.fromEntries(fields.map((f) => [f.name, propertySchema(f, '')])),
    };
  }
  const schema = {
    $schema: DRAFT,
    $id: `${ID_BASE}common.schema.json`,
    title: 'nettracer shared field definitions',
    description:
      'Definitions shared by the record schemas: value types and the field groups several records carry. Not a record type itself.',
    $defs: defs,
  };
  return { path: 'schemas/v1/common.schema.json', text: json(schema) };
}

function groupsOf(r: RecordDef): GroupName[] {
  return (Object.keys(GROUPS) as GroupName[]).filter((g) => (GROUPS[g].records as readonly string[]).includes(r.type));
}

function recordSchema(r: RecordDef): Generated {
  const groups = groupsOf(r);
  const own = fieldsOf(r.type).filter((f) => typeof f.in !== 'string');
  const schema: Record<string, unknown> = {
    $schema: DRAFT,
    $id: `${ID_BASE}${r.type}.schema.json`,
    title: r.title,
    description: r.description,
    type: 'object',
  };
  // Shared fields are composed by reference; unevaluatedProperties then
  // refuses anything neither the groups nor this record define, as
  // additionalProperties does for a record without groups.
  if (groups.length) schema.allOf = groups.map((g) => ({ $ref: `common.schema.json#/$defs/${g}` }));
  schema.required = ['type', ...requiredOf(own)];
  if (r.defs) schema.$defs = r.defs;
  schema.properties = {
    type: { const: r.type, description: r.title.endsWith('Report') ? 'Report type.' : 'Record type.' },
    ...Object.fromEntries(own.map((f) => [f.name, propertySchema(f, 'common.schema.json')])),
  };
  schema[groups.length ? 'unevaluatedProperties' : 'additionalProperties'] = false;
  return { path: `schemas/v1/${r.type}.schema.json`, text: json(schema) };
}

function anyRecordSchema(): Generated {
  const schema = {
    $schema: DRAFT,
    $id: `${ID_BASE}record.schema.json`,
    title: 'NettracerRecord',
    description: "Any line of nettracer's NDJSON stream, discriminated by type.",
    oneOf: RECORDS.filter((r) => r.stream).map((r) => ({ $ref: `${r.type}.schema.json` })),
  };
  return { path: 'schemas/v1/record.schema.json', text: json(schema) };
}

// ---------------------------------------------------------------- TypeScript

function tsDoc(text: string | undefined, indent: string): string {
  if (!text) return '';
  return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`;
}

function tsType(s: Schema, defs: Readonly<Record<string, Schema>> | undefined, indent: string): string {
  if (s.$ref) {
    const def = defs?.[s.$ref.replace('#/$defs/', '')];
    if (!def?.title) throw new Error(`record types: cannot resolve ${s.$ref}`);
    return def.title;
  }
  if (s.const !== undefined) return `'${s.const}'`;
  if (s.enum) return s.enum.map((e) => `'${e}'`).join(' | ');
  const types = Array.isArray(s.type) ? s.type : [s.type];
  return types
    .map((t) => {
      switch (t) {
        case 'string':
          return 'string';
        case 'integer':
        case 'number':
          return 'number';
        case 'boolean':
          return 'boolean';
        case 'null':
          return 'null';
        case 'array':
          return `${s.items ? tsType(s.items, defs, indent) : 'unknown'}[]`;
        case 'object':
          return tsObject(s, defs, indent);
        default:
          throw new Error(`record types: no TypeScript for ${JSON.stringify(s)}`);
      }
    })
    .join(' | ');
}

function tsObject(s: Schema, defs: Readonly<Record<string, Schema>> | undefined, indent: string): string {
  const inner = `${indent}  `;
  let out = '{\n';
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const opt = s.required?.includes(name) ? '' : '?';
    out += `${tsDoc(p.description, inner)}${inner}${name}${opt}: ${tsType(p, defs, inner)};\n`;
  }
  return `${out}${indent}}`;
}

function typescript(): Generated {
  let text = banner('src/record/fields.ts', '//');
  for (const r of RECORDS) {
    for (const def of Object.values(r.defs ?? {})) {
      text += `\n${tsDoc(def.description, '')}export interface ${def.title} ${tsObject(def, r.defs, '')}\n`;
    }
    const fields = fieldsOf(r.type);
    text += `\n${tsDoc(r.description, '')}export interface ${r.title} {\n  type: '${r.type}';\n`;
    for (const f of fields) {
      const s = schemaOf(f);
      text += `${tsDoc(s.description, '  ')}  ${f.name}${f.optional ? '?' : ''}: ${tsType(s, r.defs, '  ')};\n`;
    }
    text += '}\n';
  }
  const title = (types: readonly string[]): string =>
    types.map((t) => RECORDS.find((r) => r.type === t)!.title).join(' | ');
  text += `\n/** Any line of the NDJSON stream. */\nexport type NettracerRecord = ${title(RECORDS.filter((r) => r.stream).map((r) => r.type))};\n`;
  text += `\n/** The records made from the kernel's nt_record. */\nexport type ConnectionRecord = ${title(CONNECTION_RECORDS)};\n`;
  return { path: 'src/generated/records.ts', text };
}

// ---------------------------------------------------------------- native

/** How native/ndjson.cc writes a field: X(HOW, name, member, per). */
function nativeEntry(f: FieldDef): string {
  const from = f.from;
  if (!from) throw new Error(`${f.name}: a connection record field without a source`);
  if ('wire' in from) {
    return from.counter && from.plusHeadersPer
      ? `X(COUNTER, ${f.name}, ${from.wire}, ${from.plusHeadersPer})`
      : `X(NUMBER, ${f.name}, ${from.wire}, _)`;
  }
  if ('derived' in from) return `X(${from.derived.toUpperCase()}, ${f.name}, _, _)`;
  return 'X(CONTAINER, container, _, _)';
}

function nativeHeader(): Generated {
  let text = banner('src/record/fields.ts', '/*');
  text += `/* The fields of each connection record, in order, for native/ndjson.cc:
 * X(HOW, name, member, per). HOW is NUMBER (the nt_record member), COUNTER
 * (the member, plus the header bytes of \`per\` packets under --header-size),
 * CONTAINER (the owner's container fields, all at once) or a field the
 * encoder computes (TIMESTAMP, COMM, FAMILY, SADDR, DADDR, DIRECTION,
 * INCREMENTAL, DURATION_MS). Records of connections found at start, whose
 * counters need user space's corrections, are always JavaScript's. */
#pragma once
`;
  for (const type of CONNECTION_RECORDS) {
    const entries: string[] = [];
    for (const f of fieldsOf(type)) {
      const e = nativeEntry(f);
      if (e !== entries.at(-1)) entries.push(e); // the container fields: one entry
    }
    text += `\n#define NT_FIELDS_${type.toUpperCase()}(X) \\\n${entries.map((e) => `\t${e}`).join(' \\\n')}\n`;
  }
  text += `\n/* X(kind, type, fields): every connection record. */\n#define NT_CONNECTION_RECORDS(X) \\\n`;
  text += CONNECTION_RECORDS.map((t) => `\tX(NT_${t.toUpperCase()}, ${t}, NT_FIELDS_${t.toUpperCase()})`).join(' \\\n');
  const counted = CONNECTION_RECORDS.filter((t) =>
    fieldsOf(t).some((f) => f.from && 'wire' in f.from && f.from.counter),
  );
  text += `\n\n/* Records with running totals: under --incremental, JavaScript keeps their deltas. */\n#define NT_HAS_COUNTERS(kind) (${counted.map((t) => `(kind) == NT_${t.toUpperCase()}`).join(' || ')})\n`;
  return { path: 'native/generated/record_fields.h', text };
}

export function generateRecord(): Generated[] {
  for (const f of FIELDS) {
    if (recordsOf(f).length === 0) throw new Error(`${f.name}: in no record`);
    if (f.from && !recordsOf(f).every((t) => (CONNECTION_RECORDS as readonly string[]).includes(t))) {
      throw new Error(`${f.name}: only connection records have a kernel source`);
    }
  }
  return [commonSchema(), ...RECORDS.map(recordSchema), anyRecordSchema(), typescript(), nativeHeader()];
}
