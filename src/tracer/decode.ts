// Batches of the kernel's nt_record, read in place through one moving view
// (the hot path), or copied to plain objects. The number members come from
// the generated WireView (bpf/nettracer.h); the text ones are decoded here.
import { formatPair, type Family } from './address.js';
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
const lastPair = { bytes: new Uint8Array(2 * ADDR_LEN + 1), pair: formatPair(4, new Uint8Array(32), 0, 16) };

function comm(buf: Uint8Array, at: number): string {
  if (lastComm.bytes[COMM_LEN] === 1 && same(buf, at, lastComm.bytes, COMM_LEN)) return lastComm.text;
  lastComm.bytes.set(buf.subarray(at, at + COMM_LEN));
  lastComm.bytes[COMM_LEN] = 1;
  return (lastComm.text = decodeComm(buf, at, COMM_LEN));
}

/** saddr and daddr are adjacent in the record: one 32-byte comparison. */
function pair(buf: Uint8Array, at: number, family: number): ReturnType<typeof formatPair> {
  const b = lastPair.bytes;
  if (b[2 * ADDR_LEN] === family && same(buf, at + OFF.saddr, b, 2 * ADDR_LEN)) return lastPair.pair;
  b.set(buf.subarray(at + OFF.saddr, at + OFF.saddr + 2 * ADDR_LEN));
  b[2 * ADDR_LEN] = family;
  return (lastPair.pair = formatPair(family, buf, at + OFF.saddr, at + OFF.daddr));
}

/**
 * One record of a batch, read in place: a single view moves along the batch
 * (at()), so decoding allocates nothing per record. Strings come from the
 * caches above.
 */
export class RecordView extends WireView implements KernelRecord {
  private buf: Uint8Array = new Uint8Array(0);
  comm = '';
  private addrs = lastPair.pair;

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
    const buf = this.buf;
    if (KIND_NAME[buf[o + OFF.kind]] === undefined) throw new DecodeError(`unknown record kind ${buf[o + OFF.kind]}`);
    this.addrs = pair(buf, o, buf[o + OFF.family]);
    this.comm = comm(buf, o + OFF.comm);
    return this;
  }

  get kindName(): KindName {
    return KIND_NAME[this.kind]!;
  }
  get ipFamily(): Family {
    return this.addrs.family;
  }
  get saddr(): string {
    return this.addrs.saddr;
  }
  get daddr(): string {
    return this.addrs.daddr;
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
