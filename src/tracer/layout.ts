// Byte offsets of struct nt_record (bpf/nettracer.h). test/unit/layout.test.ts
// compiles the C header and checks every offset here against offsetof().
export const RECORD_SIZE = 136;

export const OFF = {
  id: 0,
  ts_ns: 8,
  start_ns: 16,
  bytes_sent: 24,
  bytes_received: 32,
  saddr: 40,
  daddr: 56,
  comm: 72,
  pid: 88,
  netns: 92,
  segs_out: 96,
  segs_in: 100,
  total_retrans: 104,
  srtt_us: 108,
  rttvar_us: 112,
  sport: 116,
  dport: 118,
  kind: 120,
  family: 121,
  direction: 122,
  flags: 123,
  cgroup_id: 128,
} as const;

export const ADDR_LEN = 16;
export const COMM_LEN = 16;

/** enum nt_kind */
export const KIND = { connect: 1, accept: 2, close: 3, metrics: 4, existing: 5, listen: 6 } as const;
/** enum nt_direction */
export const DIRECTION = { unknown: 0, outgoing: 1, incoming: 2 } as const;
/** NT_F_* */
export const FLAG = { announced: 0x01, pidUnknown: 0x02, preexisting: 0x04 } as const;
