// Binary nt_record -> plain objects. One pass over a batch Buffer; fields are
// read in place (no per-field copies).
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

/** Same bytes as last time? (Bursts repeat process names and address pairs.) */
function same(buf: Uint8Array, at: number, prev: Uint8Array): boolean {
  for (let i = 0; i < prev.length; i++) if (buf[at + i] !== prev[i]) return false;
  return true;
}

const lastComm = { bytes: new Uint8Array(COMM_LEN + 1), text: '' };
const lastPair = { bytes: new Uint8Array(2 * ADDR_LEN + 1), pair: formatPair(4, new Uint8Array(32), 0, 16) };

function comm(buf: Uint8Array, at: number): string {
  if (lastComm.bytes[COMM_LEN] === 1 && same(buf, at, lastComm.bytes.subarray(0, COMM_LEN))) return lastComm.text;
  lastComm.bytes.set(buf.subarray(at, at + COMM_LEN));
  lastComm.bytes[COMM_LEN] = 1;
  return (lastComm.text = decodeComm(buf, at, COMM_LEN));
}

/** saddr and daddr are adjacent in the record: one 32-byte comparison. */
function pair(buf: Uint8Array, at: number, family: number): ReturnType<typeof formatPair> {
  const b = lastPair.bytes;
  if (b[2 * ADDR_LEN] === family && same(buf, at + OFF.saddr, b.subarray(0, 2 * ADDR_LEN))) return lastPair.pair;
  b.set(buf.subarray(at + OFF.saddr, at + OFF.saddr + 2 * ADDR_LEN));
  b[2 * ADDR_LEN] = family;
  return (lastPair.pair = formatPair(family, buf, at + OFF.saddr, at + OFF.daddr));
}

export function decodeRecords(buf: Uint8Array): KernelRecord[] {
  if (buf.length % RECORD_SIZE !== 0) {
    throw new DecodeError(`record batch of ${buf.length} bytes is not a multiple of ${RECORD_SIZE}`);
  }
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: KernelRecord[] = new Array(buf.length / RECORD_SIZE);
  for (let i = 0, at = 0; at < buf.length; i++, at += RECORD_SIZE) {
    const kind = KINDS[buf[at + OFF.kind]];
    if (!kind) throw new DecodeError(`unknown record kind ${buf[at + OFF.kind]}`);
    const addrs = pair(buf, at, buf[at + OFF.family]);
    const flags = buf[at + OFF.flags];
    out[i] = {
      kind,
      id: u64(v, at + OFF.id),
      tsNs: u64(v, at + OFF.ts_ns),
      startNs: u64(v, at + OFF.start_ns),
      pid: v.getUint32(at + OFF.pid, true),
      preexisting: (flags & FLAG.preexisting) !== 0,
      comm: comm(buf, at + OFF.comm),
      family: addrs.family,
      saddr: addrs.saddr,
      sport: v.getUint16(at + OFF.sport, true),
      daddr: addrs.daddr,
      dport: v.getUint16(at + OFF.dport, true),
      netns: v.getUint32(at + OFF.netns, true),
      direction: DIRECTIONS[buf[at + OFF.direction]] ?? 'unknown',
      bytesSent: u64(v, at + OFF.bytes_sent),
      bytesReceived: u64(v, at + OFF.bytes_received),
      segsOut: v.getUint32(at + OFF.segs_out, true),
      segsIn: v.getUint32(at + OFF.segs_in, true),
      totalRetrans: v.getUint32(at + OFF.total_retrans, true),
      srttUs: v.getUint32(at + OFF.srtt_us, true),
      rttvarUs: v.getUint32(at + OFF.rttvar_us, true),
      cgroupId: u64(v, at + OFF.cgroup_id),
    };
  }
  return out;
}

