// The TypeScript encoder's reading of the record table: for each connection
// record, the steps that write its fields in order. native/ndjson.cc follows
// the same table through its generated field lists, so both encoders write
// the same fields in the same order.
import { READ, type WireNumbers } from '../generated/wire.js';
import { wrapOf } from '../record/counters.js';
import {
  CONNECTION_RECORDS,
  type ConnectionRecordType,
  fieldsOf,
  type FieldDef,
  type Source,
} from '../record/fields.js';
import { Field } from './field-sink.js';

type Derived = Extract<Source, { derived: string }>['derived'];
export type ContainerKey = Extract<Source, { container: string }>['container'];

/** A running total: a delta under --incremental. */
export interface CounterSpec {
  name: string;
  read: (r: WireNumbers) => number;
  /** With --header-size: plus the header bytes of this many packets. */
  headersPer?: (r: WireNumbers) => number;
  /** A connection found open at start, outgoing: TCP's count has the SYN. */
  lessSynByte: boolean;
  /** Where the member read, and the one of headersPer, start again from 0 (record/counters.ts). */
  wrap?: number;
  headersWrap?: number;
}

export type Step =
  | { how: 'number'; field: Field; read: (r: WireNumbers) => number }
  | { how: 'counter'; field: Field; index: number }
  | { how: 'derived'; field: Field; derived: Derived }
  | { how: 'container' };

/** Every counter of the connection records, in table order (Step.index). */
export const COUNTERS: readonly CounterSpec[] = (() => {
  const seen = new Map<string, CounterSpec>();
  for (const type of CONNECTION_RECORDS) {
    for (const f of fieldsOf(type)) {
      const from = f.from;
      if (from && 'wire' in from && from.counter && !seen.has(f.name)) {
        seen.set(f.name, {
          name: f.name,
          read: READ[from.wire],
          headersPer: from.plusHeadersPer ? READ[from.plusHeadersPer] : undefined,
          lessSynByte: from.lessSynByte === true,
          wrap: wrapOf(from.wire),
          headersWrap: from.plusHeadersPer ? wrapOf(from.plusHeadersPer) : undefined,
        });
      }
    }
  }
  return [...seen.values()];
})();

/** The container fields, in the order records carry them. */
export const CONTAINER_FIELDS: readonly { field: Field; key: ContainerKey }[] = fieldsOf('connect').flatMap((f) =>
  f.from && 'container' in f.from ? [{ field: new Field(f.name), key: f.from.container }] : [],
);

function step(f: FieldDef): Step {
  const from = f.from;
  if (!from) throw new Error(`record table: connection field ${f.name} has no source`);
  if ('container' in from) return { how: 'container' };
  const field = new Field(f.name);
  if ('derived' in from) return { how: 'derived', field, derived: from.derived };
  if (from.counter) return { how: 'counter', field, index: COUNTERS.findIndex((c) => c.name === f.name) };
  return { how: 'number', field, read: READ[from.wire] };
}

function plan(type: ConnectionRecordType): Step[] {
  const steps: Step[] = [];
  for (const f of fieldsOf(type)) {
    const s = step(f);
    // The container fields: one step writes those the owner has.
    if (s.how !== 'container' || steps.at(-1)?.how !== 'container') steps.push(s);
  }
  return steps;
}

function byType<T>(f: (t: ConnectionRecordType) => T): Readonly<Record<ConnectionRecordType, T>> {
  const out = {} as Record<ConnectionRecordType, T>;
  for (const t of CONNECTION_RECORDS) out[t] = f(t);
  return out;
}

/** The steps of each connection record. */
export const PLANS = byType<readonly Step[]>(plan);

/** Whether records of this type carry counters. */
export const HAS_COUNTERS = byType((t) => PLANS[t].some((s) => s.how === 'counter'));
