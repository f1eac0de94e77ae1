// The native addon (native/): its whole JavaScript surface, typed here, and
// loaded on first use so `--help` never pays for it.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from '../root.js';
import type { WALK } from '../generated/wire.js';

export interface NativeOptions {
  mapSize: number;
  /** Percent of the table one namespace or one user may hold (--table-share; default: the header's NT_TABLE_SHARE_DEFAULT); 100: no limit. */
  tableShare?: number;
  withLoopback: boolean;
  /** Any of these owners (at most FILTER_VALUES). */
  pid?: readonly number[];
  /** Any of these local or remote ports (at most FILTER_VALUES). */
  port?: readonly number[];
  ringBytes?: number;
  verbose: boolean;
  /** 4 or 6. */
  family?: number;
  netns?: number;
  comm?: string;
  addr?: { family: 4 | 6; prefix: number; bytes: number[] };
  /** A BPF object file to load instead of the embedded one (-p). */
  program?: string;
  /** Milliseconds between drains of records below the wake-up mark; 0: wake for every record. */
  pollMs?: number;
  /** Groups of the hook table not to attach, and groups that must be (hook-strategy.ts). */
  excludeGroups?: readonly string[];
  requireGroups?: readonly string[];
}

/**
 * Records, in the first `length` bytes of a buffer the tracer reuses: read
 * them during the call, keep nothing of it.
 */
export type RecordsCallback = (records: Buffer, length: number) => void;

/** struct nt_health, and what the kernel counts about our programs. */
export interface HealthCounters {
  recordsLost: number;
  insertFailed: number;
  recordsSent: number;
  unacceptedCloses: number;
  tracked: number;
  /** Runs of our tracepoint programs the kernel skipped (already running on that CPU). */
  hookMisses: number;
  /** Walks run, and of them those that went over every process's open files (start-up, owners to find). */
  walks: number;
  fileWalks: number;
}

/** A row of the hook table (native/hooks.cc). */
export interface HookSpec {
  /** The BPF program's name in bpf/nettracer.bpf.c. */
  program: string;
  /** Its libbpf section, as `hooks` lists report it: tp_btf/inet_sock_set_state. */
  section: string;
  /** What the kernel calls it: sock:inet_sock_set_state. */
  kernelName: string;
  /** program: never attached, run by the tracer on demand. */
  kind: 'tracepoint' | 'iterator' | 'program';
  required: boolean;
  /** Optional hooks used only together. */
  group?: string;
  /** First Linux release with it. */
  since: string;
  /** The kernel commit that added it. */
  commit: string;
  role: string;
  without: string;
  /** A faster stand-in for this row's program (its name), loaded instead of it where the kernel has both. */
  insteadOf?: string;
}

/** What probe() found for one hook. */
export interface HookOffer extends HookSpec {
  available: boolean;
  /** Available with its whole group: it would be attached. */
  used: boolean;
}

export interface KernelProbe {
  btf: boolean;
  btfError?: string;
  hooks: HookOffer[];
  /** NETTRACER_WALK_READS as read (native/probe.h): invalid when it holds anything else. */
  walkReadsAsked: 'auto' | 'direct' | 'probe' | 'invalid';
}

/** How the table walk reads sockets: direct loads (walk_direct), probe reads (walk), or no table walk. */
export type WalkReads = 'direct' | 'probe' | 'none';

export type WalkKind = (typeof WALK)[keyof typeof WALK];

/** Records of a walk: return false to suspend the walk after these. */
export type WalkCallback = (chunk: Buffer, length: number) => boolean | void;

export interface WalkProgress {
  /** Records handed over by this call. */
  records: number;
  /** The walk ended; else it is suspended. */
  done: boolean;
}

export interface NativeTracer {
  /**
   * Runs a walk (kind: WALK): metrics over the tracked connections (over
   * every process's open files at start-up, to find owners, and on kernels
   * without the socket walk), handing records over a chunk at a time. onChunk returning false
   * suspends it (the output is blocked): walkResume() goes on from there.
   */
  walk(kind: WalkKind, onChunk: WalkCallback): WalkProgress;
  walkResume(onChunk: WalkCallback): WalkProgress;
  /** A walk is suspended: no other can start until it is done. */
  walkSuspended(): boolean;
  health(): HealthCounters;
  /** Namespaces and users that had connections refused for their share of the table: [who, held, refused]. */
  shares(): { netns: [number, number, number][]; users: [number, number, number][] };
  /** The sections of the programs attached. */
  hooks(): string[];
  walkReads(): WalkReads;
  pause(): void;
  resume(): void;
  /** Delivers what the ring holds now; `all` false: only until the output blocks (default true). */
  flush(all?: boolean): void;
  /** Changes what is traced from now on (filters only); tracked connections stay. */
  setFilters(options: NativeOptions): void;
  /** Stops new records; the ring, counters and metrics walk stay usable. */
  detach(): void;
  close(): void;
  /**
   * Gives up root once attached (native/privileges.h): becomes uid/gid,
   * keeps only what bpf() shows it needs; returns what it kept.
   */
  dropPrivileges(identity: { uid: number; gid: number }): string;
}

export interface EncoderOptions {
  bootToRealtimeMs: number;
  /** Added per packet to byte counts (--header-size); 0 without. */
  headerBytesIpv4: number;
  headerBytesIpv6: number;
  incremental: boolean;
  /** Owners whose container fields are remembered, at most. */
  containerCacheMax: number;
}

/** Why encodeInto() stopped (native/ndjson.h). */
export interface EncodeStops {
  end: number;
  hole: number;
  room: number;
  owner: number;
}

/** native/ndjson.h: nt_record batches to NDJSON lines, except records that need JavaScript's state. */
export interface NativeNdjsonEncoder {
  /**
   * Writes the lines of records first.. of batch into target at offset;
   * returns [next record, bytes written, stop] (EncodeStops).
   */
  encodeInto(batch: Buffer, first: number, target: Uint8Array, offset: number): [number, number, number];
  configure(options: EncoderOptions): void;
  /**
   * What follows "direction" in records of this owner ('' when not in a
   * container): for its whole cgroup (cgroupId > 1), else for this process
   * (pid and start, as ContainerResolver keeps it).
   */
  container(cgroupId: number, pid: number, ownerStart: number, fields: string): void;
}

export interface NativeModule {
  Tracer: new (options: NativeOptions, onRecords: RecordsCallback) => NativeTracer;
  NdjsonEncoder: new (options: EncoderOptions) => NativeNdjsonEncoder;
  encodeStops: EncodeStops;
  bootToRealtimeMs(): number;
  probe(): KernelProbe;
  /**
   * Opens a file nettracer writes, safely for root on a shared host
   * (native/output_file.h): returns the descriptor, or throws (code EOUTPUT).
   */
  openOutput(path: string, options: { append: boolean; ownerUid: number }): number;
  /** The addresses of record `index` of a batch as text, and whether they are shown as IPv4. */
  addressPair(batch: Uint8Array, index: number): [boolean, string, string];
  hookTable(): { hooks: HookSpec[]; connectionMaps: string[] };
}

let cached: NativeModule | undefined;

export function loadNative(): NativeModule {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = require(join(ROOT, 'build', 'Release', 'nettracer.node')) as NativeModule;
  }
  return cached;
}
