// Batches of the kernel's nt_record, read in place through one moving view
// (the hot path), or copied to plain objects. The number members come from
// the generated WireView (bpf/nettracer.h); the text ones are decoded here.
import type { Family } from './address.js';
import { loadNative } from './native.js';
import { decodeComm } from './comm.js';
import {
  ADDR_LEN,
  COMM_LEN,
  KIND,
  OFF,
  READ,
  RECORD_SIZE,
  type WireMember,
  type WireNumbers,
  WireView,
} from '../generated/wire.js';

export type KindName = keyof typeof KIND;

/** A kernel record as a plain object: every number member, and the decoded text. */
export type KernelRecord = WireNumbers & {
  readonly comm: string;
  /** The family as the records show it: an IPv6 socket between IPv4-mapped addresses is ipv4. */
  readonly ipFamily: Family;
  readonly saddr: string;
  readonly daddr: string;
};

/** enum nt_kind by value. */
export const KIND_NAME: readonly (KindName | undefined)[] = (() => {
  const names: (KindName | undefined)[] = [];
  for (const [name, value] of Object.entries(KIND)) names[value] = name as KindName;
  return names;
})();

const MEMBERS = Object.keys(READ) as WireMember[];

export class DecodeError extends Error {}

/** Same `len` bytes as last time? (Bursts repeat process names and address pairs.) */
function same(buf: Uint8Array, at: number, prev: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[at + i] !== prev[i]) return false;
  return true;
}

const lastComm = { bytes: new Uint8Array(COMM_LEN + 1), text: '' };
interface AddressPair {
  family: Family;
  saddr: string;
  daddr: string;
}

const lastPair: { bytes: Uint8Array; pair: AddressPair } = {
  bytes: new Uint8Array(2 * ADDR_LEN + 1),
  pair: { family: 'ipv4', saddr: '0.0.0.0', daddr: '0.0.0.0' },
};

function comm(buf: Uint8Array, at: number): string {
  if (lastComm.bytes[COMM_LEN] === 1 && same(buf, at, lastComm.bytes, COMM_LEN)) return lastComm.text;
  lastComm.bytes.set(buf.subarray(at, at + COMM_LEN));
  lastComm.bytes[COMM_LEN] = 1;
  return (lastComm.text = decodeComm(buf, at, COMM_LEN));
}

/** saddr and daddr are adjacent in the record: one 32-byte comparison, and the addon's text when they differ. */
function pair(buf: Uint8Array, at: number, family: number): AddressPair {
  const b = lastPair.bytes;
  if (b[2 * ADDR_LEN] === family && same(buf, at + OFF.saddr, b, 2 * ADDR_LEN)) return lastPair.pair;
  b.set(buf.subarray(at + OFF.saddr, at + OFF.saddr + 2 * ADDR_LEN));
  b[2 * ADDR_LEN] = family;
  const [ipv4, saddr, daddr] = loadNative().addressPair(buf, at / RECORD_SIZE);
  return (lastPair.pair = { family: ipv4 ? 'ipv4' : 'ipv6', saddr, daddr });
}

/**
 * One record of a batch, read in place: a single view moves along the batch
 * (at()), so decoding allocates nothing per record. Strings come from the
 * caches above.
 */
export class RecordView extends WireView implements KernelRecord {
  private buf: Uint8Array = new Uint8Array(0);
  /** The text of the record the view is on, decoded when first read. */
  private commText: string | undefined;
  private pairText: AddressPair | undefined;

  /** Points the view at a batch; returns how many records it holds. */
  batch(buf: Uint8Array): number {
    if (buf.length % RECORD_SIZE !== 0) {
      throw new DecodeError(`record batch of ${buf.length} bytes is not a multiple of ${RECORD_SIZE}`);
    }
    this.buf = buf;
    this.v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return buf.length / RECORD_SIZE;
  }

  /** Moves to record i of the batch. */
  at(i: number): this {
    const o = (this.o = i * RECORD_SIZE);
    if (KIND_NAME[this.buf[o + OFF.kind]] === undefined) {
      throw new DecodeError(`unknown record kind ${this.buf[o + OFF.kind]}`);
    }
    this.commText = undefined;
    this.pairText = undefined;
    return this;
  }

  get kindName(): KindName {
    return KIND_NAME[this.kind]!;
  }
  get comm(): string {
    return (this.commText ??= comm(this.buf, this.o + OFF.comm));
  }
  private get pair(): AddressPair {
    return (this.pairText ??= pair(this.buf, this.o, this.buf[this.o + OFF.family]));
  }
  get ipFamily(): Family {
    return this.pair.family;
  }
  get saddr(): string {
    return this.pair.saddr;
  }
  get daddr(): string {
    return this.pair.daddr;
  }

  /** A copy that outlives the view's next move. */
  snapshot(): KernelRecord {
    const out: Record<string, number | string> = {
      comm: this.comm,
      ipFamily: this.ipFamily,
      saddr: this.saddr,
      daddr: this.daddr,
    };
    for (const m of MEMBERS) out[m] = READ[m](this);
    return out as KernelRecord;
  }
}

/** Every record of a batch as a plain object (tests, one-off use). */
export function decodeRecords(buf: Uint8Array): KernelRecord[] {
  const view = new RecordView();
  const n = view.batch(buf);
  const out = new Array<KernelRecord>(n);
  for (let i = 0; i < n; i++) out[i] = view.at(i).snapshot();
  return out;
}
