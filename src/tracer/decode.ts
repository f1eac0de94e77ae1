// Binary nt_record batches: read in place through a moving view (the hot
// path), or copied to plain objects.
import { formatPair, type Family } from './address.js';
import { decodeComm } from './comm.js';
import { ADDR_LEN, COMM_LEN, DIRECTION, FLAG, KIND, OFF, RECORD_SIZE } from './layout.js';

export type Kind = 'connect' | 'accept' | 'close' | 'metrics' | 'existing' | 'listen';

/** 'unknown' only for connections found open at start (resolved by the session). */
export type Direction = 'outgoing' | 'incoming' | 'unknown';

export interface KernelRecord {
  kind: Kind;
  id: number;
  tsNs: number;
  startNs: number;
  pid: number;
  /** Open before tracing started; startNs is when it was found. */
  preexisting: boolean;
  comm: string;
  family: Family;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  netns: number;
  direction: Direction;
  bytesSent: number;
  bytesReceived: number;
  segsOut: number;
  segsIn: number;
  totalRetrans: number;
  srttUs: number;
  rttvarUs: number;
  /** The owner's cgroup v2 id (cgroupfs inode); 1 on hosts without cgroup v2. */
  cgroupId: number;
}

const KINDS: Record<number, Kind> = {
  [KIND.connect]: 'connect',
  [KIND.accept]: 'accept',
  [KIND.close]: 'close',
  [KIND.metrics]: 'metrics',
  [KIND.existing]: 'existing',
  [KIND.listen]: 'listen',
};

const DIRECTIONS: Record<number, Direction> = {
  [DIRECTION.outgoing]: 'outgoing',
  [DIRECTION.incoming]: 'incoming',
};

/** u64 as a JS number: exact below 2^53 (cookies, byte counts, boot-time ns for ~104 days). */
function u64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 4294967296 + v.getUint32(at, true);
}

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
export class RecordView implements KernelRecord {
  private buf: Uint8Array = new Uint8Array(0);
  private v = new DataView(this.buf.buffer);
  private o = 0;
  kind: Kind = 'connect';
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
    const kind = KINDS[buf[o + OFF.kind]];
    if (!kind) throw new DecodeError(`unknown record kind ${buf[o + OFF.kind]}`);
    this.kind = kind;
    this.addrs = pair(buf, o, buf[o + OFF.family]);
    this.comm = comm(buf, o + OFF.comm);
    return this;
  }

  get id(): number { return u64(this.v, this.o + OFF.id); }
  get tsNs(): number { return u64(this.v, this.o + OFF.ts_ns); }
  get startNs(): number { return u64(this.v, this.o + OFF.start_ns); }
  get pid(): number { return this.v.getUint32(this.o + OFF.pid, true); }
  get preexisting(): boolean { return (this.buf[this.o + OFF.flags] & FLAG.preexisting) !== 0; }
  get family(): Family { return this.addrs.family; }
  get saddr(): string { return this.addrs.saddr; }
  get sport(): number { return this.v.getUint16(this.o + OFF.sport, true); }
  get daddr(): string { return this.addrs.daddr; }
  get dport(): number { return this.v.getUint16(this.o + OFF.dport, true); }
  get netns(): number { return this.v.getUint32(this.o + OFF.netns, true); }
  get direction(): Direction { return DIRECTIONS[this.buf[this.o + OFF.direction]] ?? 'unknown'; }
  get bytesSent(): number { return u64(this.v, this.o + OFF.bytes_sent); }
  get bytesReceived(): number { return u64(this.v, this.o + OFF.bytes_received); }
  get segsOut(): number { return this.v.getUint32(this.o + OFF.segs_out, true); }
  get segsIn(): number { return this.v.getUint32(this.o + OFF.segs_in, true); }
  get totalRetrans(): number { return this.v.getUint32(this.o + OFF.total_retrans, true); }
  get srttUs(): number { return this.v.getUint32(this.o + OFF.srtt_us, true); }
  get rttvarUs(): number { return this.v.getUint32(this.o + OFF.rttvar_us, true); }
  get cgroupId(): number { return u64(this.v, this.o + OFF.cgroup_id); }

  /** A copy that outlives the view's next move. */
  snapshot(): KernelRecord {
    return {
      kind: this.kind,
      id: this.id,
      tsNs: this.tsNs,
      startNs: this.startNs,
      pid: this.pid,
      preexisting: this.preexisting,
      comm: this.comm,
      family: this.family,
      saddr: this.saddr,
      sport: this.sport,
      daddr: this.daddr,
      dport: this.dport,
      netns: this.netns,
      direction: this.direction,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      segsOut: this.segsOut,
      segsIn: this.segsIn,
      totalRetrans: this.totalRetrans,
      srttUs: this.srttUs,
      rttvarUs: this.rttvarUs,
      cgroupId: this.cgroupId,
    };
  }
}

/** Every record of a batch as a plain object (start-up walks, tests). */
export function decodeRecords(buf: Uint8Array): KernelRecord[] {
  const view = new RecordView();
  const n = view.batch(buf);
  const out: KernelRecord[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = view.at(i).snapshot();
  return out;
}
