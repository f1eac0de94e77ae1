// The one table of nettracer's records: every record type and every field,
// with its JSON type, unit, which records carry it, its description, and for
// connection records where its value comes from in the kernel's nt_record.
//
// scripts/generate.ts makes from it the published JSON Schemas (schemas/v1),
// the TypeScript types (src/generated/records.ts), the native encoder's field
// lists (native/generated/record_fields.h) and the man page's field lists;
// the TypeScript encoder (src/encode/field-plan.ts) reads it at run time.
// CONTRIBUTING.md: adding a field.
import type { WireMember } from '../generated/wire.js';
import type { Schema } from './schema.js';

// The widths of nt_record's members (bpf/nettracer.h) bound the values the
// kernel can give: a maximum keeps 1e308 out of sums (test/unit/schemas.test.ts
// checks each against the wire layout). 2^64 - 1 is 2^64 as a double: JSON
// numbers are read as doubles, exact up to 2^53.
const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2 ** 64 - 1;

/** Shared value types: published as common.schema.json#/$defs/<name>. */
export const TYPES = {
  timestamp: {
    type: 'string',
    format: 'date-time',
    description: 'When the kernel made the record, RFC 3339 in UTC with millisecond precision.',
  },
  id: {
    type: 'integer',
    minimum: 1,
    maximum: U64_MAX,
    description:
      "Stable identifier of one end of a connection: the kernel's socket cookie (the value `ss -e` prints as sk:...; decimal here). Equal in every record about that end; the two ends of a loopback connection have different ids.",
  },
  pid: {
    type: 'integer',
    minimum: 0,
    maximum: U32_MAX,
    description:
      'Process id (thread-group id) of the owner: for outgoing connections the process that called connect(), for incoming ones the process that accepted it, known when it first sends, receives, closes or holds it in a metrics walk (for one that was open before tracing started and connecting when it did, the same). 0 only when a connection closed before any process accepted or used it.',
  },
  comm: {
    type: 'string',
    maxLength: 64,
    description:
      "Name of the owning process (the kernel's comm, at most 15 bytes, chosen by the process). Printable UTF-8 is kept as it is; a name with a backslash, a control character, invalid UTF-8 or an invisible formatting character (zero-width and marks U+200B-U+200F, bidirectional embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069, the Arabic letter mark U+061C, word joiner and invisible operators U+2060-U+2064, separators U+2028/U+2029, byte order mark U+FEFF) has every byte but printable ASCII escaped as \\xNN, the backslash itself as \\x5c: a literal \\x7f reads \\x5cx7f, the byte 0x7f \\x7f. Empty when pid is 0.",
  },
  family: {
    enum: ['ipv4', 'ipv6'],
    description:
      'Address family of the connection as seen on the wire. An IPv6 socket talking to an IPv4-mapped address (::ffff:a.b.c.d) is reported as ipv4.',
  },
  address: {
    type: 'string',
    description: 'Textual IP address: dotted quad for IPv4, RFC 5952 compressed form for IPv6.',
  },
  port: { type: 'integer', minimum: 0, maximum: 65535, description: 'TCP port number.' },
  netns: {
    type: 'integer',
    minimum: 0,
    maximum: U32_MAX,
    description: "Inode number of the connection's network namespace, as `stat -L -c %i /proc/PID/ns/net` prints it.",
  },
  direction: {
    enum: ['outgoing', 'incoming'],
    description:
      'outgoing: this end called connect() (active open); incoming: this end was accepted from a listening socket (passive open).',
  },
  bytes: {
    type: 'integer',
    minimum: 0,
    maximum: U64_MAX,
    description: 'Payload bytes (TCP headers and retransmissions excluded).',
  },
  segments: {
    type: 'integer',
    minimum: 0,
    maximum: U32_MAX,
    description: 'TCP segments, as the kernel counts them for TCP_INFO.',
  },
  microseconds: {
    type: 'integer',
    minimum: 0,
    maximum: U32_MAX,
    description: 'A duration in microseconds.',
  },
  container_id: {
    type: 'string',
    pattern: '^[0-9a-f]{64}$',
    description:
      'Id of the container the owning process runs in, from its cgroup path where the runtime puts containers (docker, containerd, cri-o and podman conventions; cgroup v1 and v2; see CONTAINERS in the man page). Absent when the process is not in a recognisable container or had exited before it could be looked up.',
  },
  container_runtime: {
    enum: ['docker', 'containerd', 'cri-o', 'podman'],
    description:
      "The container runtime named by the cgroup path. Absent when the path does not say (Kubernetes' cgroupfs driver).",
  },
  pod_uid: {
    type: 'string',
    pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    description: 'Kubernetes pod UID, from the kubepods cgroup path. Absent outside Kubernetes.',
  },
  error: {
    type: 'string',
    pattern: '^(E[A-Z0-9]+|abandoned)$',
    description: 'An errno name (as errno(3) spells it), or abandoned.',
  },
  errno: {
    type: 'integer',
    minimum: 0,
    maximum: 65535,
    description: 'The numeric errno of error on Linux (0 for abandoned).',
  },
  qos_class: {
    enum: ['guaranteed', 'burstable', 'besteffort'],
    description: 'Kubernetes QoS class of the pod, from the kubepods cgroup path. Absent outside Kubernetes.',
  },
} as const satisfies Record<string, Schema>;

export type TypeName = keyof typeof TYPES;

export type RecordType =
  | 'connect'
  | 'connect_failed'
  | 'accept'
  | 'existing'
  | 'metrics'
  | 'close'
  | 'lost'
  | 'stats'
  | 'check'
  | 'summary'
  | 'validation';

/** The connection records: the ones made from the kernel's nt_record. */
export const CONNECTION_RECORDS = ['connect', 'connect_failed', 'accept', 'existing', 'metrics', 'close'] as const;
export type ConnectionRecordType = (typeof CONNECTION_RECORDS)[number];

export interface RecordDef {
  type: RecordType;
  /** The TypeScript type's name, and the schema's title. */
  title: string;
  description: string;
  /** A line of the NDJSON stream (record.schema.json), or a report of its own. */
  stream: boolean;
  /** Schemas only this record uses: its schema's $defs. */
  defs?: Readonly<Record<string, Schema>>;
}

export const RECORDS: readonly RecordDef[] = [
  {
    type: 'connect',
    title: 'ConnectRecord',
    stream: true,
    description: 'An outgoing connection (this end called connect()) became established.',
  },
  {
    type: 'connect_failed',
    title: 'ConnectFailedRecord',
    stream: true,
    description:
      "An outgoing connection attempt ended before it was established: the peer refused it, its SYNs went unanswered, a router said the destination is unreachable, or the application closed the socket while it was still connecting. No connect or close record goes with it. pid/comm are the process that called connect(); sport is the local port the attempt used (0 when it never got one). A connect() that fails before any SYN is sent (no route on this host, no free local port) does not reach TCP's state machine and makes no record.",
  },
  {
    type: 'accept',
    title: 'AcceptRecord',
    stream: true,
    description:
      "An incoming connection became established and a process took it over: made when the process that accepted it first sends, receives, closes or shuts it down, or at the next metrics walk if it holds it idle, whichever comes first (nettracer hooks no system call: a hook on accept()'s return would slow every system call on the host), so pid is that process. A connection that closes before anyone accepts it gets an accept record with pid 0 just before its close record.",
  },
  {
    type: 'existing',
    title: 'ExistingRecord',
    stream: true,
    description:
      "A connection that was already established when tracing started, found by the start-up walk over every process's open files (all network namespaces). It is not a new connection: no connect or accept record precedes it. Its later metrics and close records are like any other's. pid/comm are the process holding the socket at start-up. direction is incoming when a listening socket on the same local port and namespace was found, otherwise outgoing. Counters are totals since the connection was established, except that bytes_sent counts acknowledged payload and bytes_received in-order received payload up to the start (TCP's own counters; the application's calls are counted from then on).",
  },
  {
    type: 'metrics',
    title: 'MetricsRecord',
    stream: true,
    description: 'Periodic report for an open connection, every --interval seconds.',
  },
  {
    type: 'close',
    title: 'CloseRecord',
    stream: true,
    description:
      'A connection end closed (reached TCP state CLOSE). Counters are final totals since the connection was established, also in incremental mode.',
  },
  {
    type: 'lost',
    title: 'LostRecord',
    stream: true,
    description:
      "Something was not reported: the kernel's ring buffer was full (records_lost), the connection table was full (connections_untracked), the kernel skipped a run of nettracer's programs (hook_misses), or the output was blocked when a metrics walk was due (metrics_walks_skipped). Counts are since the previous lost record; while the output is blocked none is written, and the first after it says what was lost meanwhile.",
  },
  {
    type: 'stats',
    title: 'StatsRecord',
    stream: true,
    description:
      "The tracer's own health, every --stats-interval seconds and once when tracing stops. Counts are totals since tracing started.",
  },
  {
    type: 'check',
    title: 'CheckReport',
    stream: false,
    description: 'What `nettracer check --json` prints: whether tracing would work on this host, and why not.',
  },
  {
    type: 'summary',
    title: 'SummaryRecord',
    stream: false,
    description:
      "What `nettracer summarize` prints: the traffic of one process, container or the whole host over one window, with the metric keys of Dynatrace's NetTracer (builtin:tech.nettracer.*: bytes_rx, bytes_tx, pkts_rx, pkts_tx, pkts_retr, retr_percentage, rtt, traffic, traffic_rx, traffic_tx). A session is one connection end active in the window; its bytes and packets are what it moved inside the window.",
    defs: {
      stats: {
        title: 'SummaryStats',
        type: 'object',
        additionalProperties: false,
        required: ['sum', 'avg', 'min', 'max', 'count'],
        properties: {
          sum: { type: 'number', minimum: 0, description: 'Total over the sessions.' },
          avg: { type: 'number', minimum: 0, description: 'sum / count (0 when count is 0).' },
          min: { type: 'number', minimum: 0, description: 'Smallest value of one session (0 when count is 0).' },
          max: { type: 'number', minimum: 0, description: 'Largest value of one session (0 when count is 0).' },
          count: { type: 'integer', minimum: 0, description: 'Number of sessions.' },
        },
      },
    },
  },
  {
    type: 'validation',
    title: 'ValidationReport',
    stream: false,
    description:
      'What `nettracer validate --json` prints: whether every line of the input is a valid record of its type, and what is wrong with the first lines that are not.',
  },
];

/** Fields several record types share: published as common.schema.json#/$defs/<name>. */
export const GROUPS = {
  connection: {
    records: CONNECTION_RECORDS,
    description: 'The fields every connection record carries: when, which connection end, and its owner.',
  },
  counters: {
    records: ['existing', 'metrics', 'close'],
    description: "A connection end's counters, as TCP_INFO reports them.",
  },
} as const satisfies Record<string, { records: readonly RecordType[]; description: string }>;

export type GroupName = keyof typeof GROUPS;

/**
 * Where a connection record's field comes from.
 * - wire: the nt_record member of that name (bpf/nettracer.h). counter: a
 *   running total, a delta since the previous metrics record under
 *   --incremental; plusHeadersPer: with --header-size, plus the average
 *   header size times this member; lessSynByte: a connection found open at
 *   start and outgoing counts its SYN in TCP's bytes_acked, one byte less.
 * - derived: computed by each encoder (native/ndjson.cc, src/encode/).
 * - container: the owner's container, from its cgroup (src/tracer/containers.ts).
 */
export type Source =
  | { wire: WireMember; counter?: true; plusHeadersPer?: WireMember; lessSynByte?: true }
  | {
      derived:
        | 'timestamp'
        | 'comm'
        | 'family'
        | 'saddr'
        | 'daddr'
        | 'direction'
        | 'incremental'
        | 'duration_ms'
        | 'established_at'
        | 'close_reason'
        | 'first_fin'
        | 'error'
        | 'errno';
    }
  | { container: 'container_id' | 'container_runtime' | 'pod_uid' | 'qos_class' };

/** A list of the table's shares (stats): who, places held now, connections refused. */
function shareList(who: 'netns' | 'uid', whoDescription: string): Schema {
  return {
    type: 'array',
    items: {
      type: 'object',
      required: [who, 'connections_held', 'connections_untracked'],
      additionalProperties: false,
      properties: {
        [who]: { type: 'integer', minimum: 0, maximum: 4294967295, description: whoDescription },
        connections_held: { type: 'integer', minimum: 0, description: 'Places in the table it holds now.' },
        connections_untracked: {
          type: 'integer',
          minimum: 0,
          description: 'Connections not followed because its share was full (also in connections_untracked).',
        },
      },
    },
  };
}

/** Listening sockets with something queued or dropped (stats). */
export const LISTENERS_LISTED = 100;

const listenerList: Schema = {
  type: 'array',
  maxItems: LISTENERS_LISTED,
  items: {
    type: 'object',
    required: ['netns', 'address', 'port', 'listen_drops', 'accept_queue', 'accept_queue_max', 'half_open'],
    additionalProperties: false,
    properties: {
      netns: { type: 'integer', minimum: 0, maximum: U32_MAX, description: 'Its network namespace (inode).' },
      address: { type: 'string', description: 'The address it is bound to (0.0.0.0 or :: for any).' },
      port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Its port.' },
      listen_drops: {
        type: 'integer',
        minimum: 0,
        description:
          "SYNs and handshake-completing ACKs the kernel dropped because the listener's accept queue (or SYN queue) was full: connections its clients saw time out or retry. The kernel's count since the socket was created (ss -tlnm: d; nstat TcpExtListenDrops for the namespace).",
      },
      accept_queue: {
        type: 'integer',
        minimum: 0,
        description: 'Connections established and waiting for accept() at the last metrics walk (ss -tln: Recv-Q).',
      },
      accept_queue_max: {
        type: 'integer',
        minimum: 0,
        description: "The accept queue's limit: listen()'s backlog, capped by net.core.somaxconn (ss -tln: Send-Q).",
      },
      half_open: {
        type: 'integer',
        minimum: 0,
        description:
          'Incoming handshakes in progress at the last metrics walk: SYN received, SYN-ACK sent, no ACK yet. Many, or many SYN-ACK retransmissions, are handshakes that do not complete (a peer that went away, a SYN flood).',
      },
      synack_retransmits: {
        type: 'integer',
        minimum: 0,
        description: 'SYN-ACKs sent again since tracing started because the ACK did not come. Absent without the hook.',
      },
    },
  },
};

export interface FieldDef {
  name: string;
  /** A shared type, or a schema of its own. */
  type: TypeName | Schema;
  /** The records that carry it: a group, or a list. */
  in: GroupName | readonly RecordType[];
  /** Replaces the shared type's description. */
  description?: string;
  /** UCUM unit (By, us, ms, s, bit/s, %, {segment}), for fields that count or measure. */
  unit?: string;
  /** Absent from some records of its types (default: always present). */
  optional?: true;
  /** Connection records only. */
  from?: Source;
}

// Value types fields of their own use (inline in their schemas).
const COUNT: Schema = { type: 'integer', minimum: 0 };
const AMOUNT: Schema = { type: 'number', minimum: 0 };
const DATE_TIME: Schema = { type: 'string', format: 'date-time' };
const BOOLEAN: Schema = { type: 'boolean' };
const TEXT: Schema = { type: 'string' };

const headers = 'With --header-size (-s), plus 66 bytes (IPv4) or 77 bytes (IPv6) per packet sent/received.';
const wraps =
  'The kernel counts it in 32 bits: past 4294967295 it starts again from 0 (after about 86 minutes at 10 Gbit/s), and so does this total; deltas (--incremental), summarize and the legacy format count on across the wrap, modulo 2^32, as long as fewer than 2^32 segments pass between two records of the connection.';

/** The invalid lines `nettracer validate` lists (its report's errors); the rest it counts. */
export const ERRORS_LISTED = 100;

/** Every field, in the order records carry them. */
export const FIELDS: readonly FieldDef[] = [
  // Connection records.
  { name: 'timestamp', in: 'connection', type: 'timestamp', from: { derived: 'timestamp' } },
  { name: 'id', in: 'connection', type: 'id', from: { wire: 'id' } },
  { name: 'pid', in: 'connection', type: 'pid', from: { wire: 'pid' } },
  { name: 'comm', in: 'connection', type: 'comm', from: { derived: 'comm' } },
  { name: 'family', in: 'connection', type: 'family', from: { derived: 'family' } },
  {
    name: 'saddr',
    in: 'connection',
    type: 'address',
    description: 'Local address of this end.',
    from: { derived: 'saddr' },
  },
  { name: 'sport', in: 'connection', type: 'port', description: 'Local port of this end.', from: { wire: 'sport' } },
  { name: 'daddr', in: 'connection', type: 'address', description: 'Remote address.', from: { derived: 'daddr' } },
  { name: 'dport', in: 'connection', type: 'port', description: 'Remote port.', from: { wire: 'dport' } },
  { name: 'netns', in: 'connection', type: 'netns', from: { wire: 'netns' } },
  { name: 'direction', in: 'connection', type: 'direction', from: { derived: 'direction' } },
  { name: 'container_id', in: 'connection', type: 'container_id', optional: true, from: { container: 'container_id' } },
  {
    name: 'container_runtime',
    in: 'connection',
    type: 'container_runtime',
    optional: true,
    from: { container: 'container_runtime' },
  },
  { name: 'pod_uid', in: 'connection', type: 'pod_uid', optional: true, from: { container: 'pod_uid' } },
  { name: 'qos_class', in: 'connection', type: 'qos_class', optional: true, from: { container: 'qos_class' } },
  {
    name: 'established_at',
    in: ['accept', 'close'],
    type: DATE_TIME,
    optional: true,
    description:
      "When the connection became established (the kernel's stamp at the state change), RFC 3339 UTC: an accept record is made when the accepting process first touches the connection, which can be much later than its handshake. Absent for a connection open before tracing started (its existing record says when it was found) and in captures made before nettracer reported it.",
    from: { derived: 'established_at' },
  },
  // A failed attempt: why, and how hard it tried.
  {
    name: 'error',
    in: ['connect_failed'],
    type: 'error',
    description:
      "Why the attempt failed, as the application's connect() (or getsockopt(SO_ERROR)) saw it: ECONNREFUSED (the peer reset it: nothing listens there), ETIMEDOUT (no SYN-ACK came back after syns_sent SYNs), EHOSTUNREACH or ENETUNREACH (a router's ICMP error), or another errno name; abandoned when the application closed the socket while it was still connecting (errno 0).",
    from: { derived: 'error' },
  },
  { name: 'errno', in: ['connect_failed'], type: 'errno', from: { derived: 'errno' } },
  {
    name: 'syns_sent',
    in: ['connect_failed'],
    type: 'segments',
    unit: '{segment}',
    description:
      'SYNs sent for the attempt, the first and every retransmission (TCP_INFO tcpi_segs_out): more than one is the mark of a destination that does not answer.',
    from: { wire: 'packets_sent' },
  },
  {
    name: 'duration_ms',
    in: ['connect_failed'],
    type: AMOUNT,
    unit: 'ms',
    description: 'Time from connect() to the failure, in milliseconds (microsecond precision).',
    from: { derived: 'duration_ms' },
  },
  {
    name: 'bytes_sent',
    in: 'counters',
    type: 'bytes',
    unit: 'By',
    description: `Payload bytes sent: the sum of the application's successful send and write calls (bytes_from calls in the stats record), or the payload the peer acknowledged (bytes_from counters); the man page's ACCURACY section says what each counts. In bytes; retransmissions and headers excluded. ${headers}`,
    from: { wire: 'bytes_sent', counter: true, plusHeadersPer: 'packets_sent', lessSynByte: true },
  },
  {
    name: 'bytes_received',
    in: 'counters',
    type: 'bytes',
    unit: 'By',
    description: `Payload bytes received: the sum of the application's successful receive and read calls, MSG_PEEK excluded (bytes_from calls), or the payload received in order (bytes_from counters). In bytes. ${headers}`,
    from: { wire: 'bytes_received', counter: true, plusHeadersPer: 'packets_received' },
  },
  {
    name: 'packets_sent',
    in: 'counters',
    type: 'segments',
    unit: '{segment}',
    description: `TCP segments sent, including SYN, FIN, pure ACKs and retransmissions (TCP_INFO tcpi_segs_out). ${wraps}`,
    from: { wire: 'packets_sent', counter: true },
  },
  {
    name: 'packets_received',
    in: 'counters',
    type: 'segments',
    unit: '{segment}',
    description: `TCP segments received, including SYN, FIN and pure ACKs (TCP_INFO tcpi_segs_in). ${wraps}`,
    from: { wire: 'packets_received', counter: true },
  },
  {
    name: 'packets_retransmitted',
    in: 'counters',
    type: 'segments',
    unit: '{segment}',
    description: `Segments retransmitted over the connection's life (TCP_INFO tcpi_total_retrans): segments, not retransmission events. ${wraps}`,
    from: { wire: 'packets_retransmitted', counter: true },
  },
  {
    name: 'rtt_us',
    in: 'counters',
    type: 'microseconds',
    unit: 'us',
    description: 'Smoothed round-trip time in microseconds (TCP_INFO tcpi_rtt). Not a delta, also in incremental mode.',
    from: { wire: 'rtt_us' },
  },
  {
    name: 'rtt_var_us',
    in: 'counters',
    type: 'microseconds',
    unit: 'us',
    description:
      'Round-trip time variance (mean deviation) in microseconds (TCP_INFO tcpi_rttvar). Not a delta, also in incremental mode.',
    from: { wire: 'rtt_var_us' },
  },
  {
    name: 'incremental',
    in: ['metrics'],
    type: BOOLEAN,
    description:
      "true: bytes_*, packets_* are deltas since this connection's previous metrics record (or since it was established, for its first); false: totals since it was established.",
    from: { derived: 'incremental' },
  },
  {
    name: 'duration_ms',
    in: ['close'],
    type: AMOUNT,
    unit: 'ms',
    description:
      'Time from established to closed, in milliseconds (microsecond precision). For a connection open before tracing started (see the existing record), from when it was found.',
    from: { derived: 'duration_ms' },
  },
  {
    name: 'close_reason',
    in: ['close'],
    type: {
      enum: ['fin', 'reset_sent', 'reset_received', 'timeout', 'aborted'],
    },
    optional: true,
    description:
      "How the connection ended: fin, an orderly close (FINs both ways; first_fin says who began); reset_received, the peer reset it (error ECONNRESET, or EPIPE when it had already sent its FIN); reset_sent, TCP reset it with no close by the application (ss -K: error ECONNABORTED; too many orphaned sockets); timeout, retransmissions or keepalive probes gave up (error ETIMEDOUT, or the ICMP error that came meanwhile); aborted, this end's application closed it with SO_LINGER 0 or with data it had not read, which sends a reset. Absent when the kernel does not say (a socket freed without passing through CLOSE) and in captures made before nettracer reported it.",
    from: { derived: 'close_reason' },
  },
  {
    name: 'first_fin',
    in: ['close'],
    type: { enum: ['local', 'remote'] },
    optional: true,
    description:
      'With close_reason fin: local, this end sent the first FIN (it called close() or shutdown() first); remote, the peer did. A simultaneous close counts as local.',
    from: { derived: 'first_fin' },
  },
  {
    name: 'error',
    in: ['close'],
    type: 'error',
    optional: true,
    description:
      "The socket's error when it closed (getsockopt(SO_ERROR)), as an errno name: ECONNRESET, EPIPE, ETIMEDOUT, ECONNABORTED, EHOSTUNREACH... Present only when there is one.",
    from: { derived: 'error' },
  },
  { name: 'errno', in: ['close'], type: 'errno', optional: true, from: { derived: 'errno' } },

  // The tracer's own health.
  {
    name: 'timestamp',
    in: ['lost'],
    type: DATE_TIME,
    description: 'When the loss was noticed (checked every second), RFC 3339 UTC.',
  },
  {
    name: 'timestamp',
    in: ['stats'],
    type: DATE_TIME,
    description: 'When the counters were read, RFC 3339 UTC.',
  },
  {
    name: 'records_sent',
    in: ['stats'],
    type: COUNT,
    unit: '{record}',
    description: 'Connect, accept and close records the kernel side handed to nettracer.',
  },
  {
    name: 'records_lost',
    in: ['lost'],
    type: COUNT,
    unit: '{record}',
    description:
      'Connect, accept or close records dropped because the ring buffer between kernel and nettracer was full (the reader was too slow).',
  },
  {
    name: 'records_lost',
    in: ['stats'],
    type: COUNT,
    unit: '{record}',
    description:
      'Connect, accept and close records dropped because the ring buffer between kernel and nettracer was full.',
  },
  {
    name: 'connections_tracked',
    in: ['stats'],
    type: COUNT,
    unit: '{connection}',
    description: 'Connection ends in the connection table now (including incoming ones not yet accepted).',
  },
  {
    name: 'connections_untracked',
    in: ['lost', 'stats'],
    type: COUNT,
    unit: '{connection}',
    description: 'Connections not followed because the connection table (--map-size) was full.',
  },
  {
    name: 'unaccepted_closes',
    in: ['stats'],
    type: COUNT,
    unit: '{connection}',
    description: 'Incoming connections that closed before any process accepted them (reported with pid 0).',
  },
  {
    name: 'hook_misses',
    in: ['lost'],
    type: COUNT,
    unit: '{run}',
    description:
      "Runs of nettracer's kernel programs the kernel skipped because the same program was already running on that CPU (an interrupt in the middle of it reached the same hook). Each may have been a connect, accept or close record, or bytes of a connection's counters.",
  },
  {
    name: 'hook_misses',
    in: ['stats'],
    type: COUNT,
    unit: '{run}',
    description:
      "Runs of nettracer's kernel programs the kernel skipped because the same program was already running on that CPU (see the lost record).",
  },
  {
    name: 'metrics_walks_skipped',
    in: ['lost'],
    type: COUNT,
    unit: '{walk}',
    optional: true,
    description:
      'Metrics walks not made because the output was blocked (the reader was not reading): each is one interval in which no connection got a metrics record. Present when not 0.',
  },
  {
    name: 'untracked_by_netns',
    in: ['stats'],
    type: shareList('netns', 'The network namespace (inode), as in connection records.'),
    optional: true,
    description:
      'Network namespaces that had connections refused because they held their share of the connection table (--table-share), since the start. Present when not empty.',
  },
  {
    name: 'untracked_by_user',
    in: ['stats'],
    type: shareList('uid', "The socket owner's user id on the host (however many user namespaces it made)."),
    optional: true,
    description:
      'Socket owners other than root that had connections refused because they held their share of the connection table (--table-share), since the start. Present when not empty.',
  },
  {
    name: 'metrics_walks_skipped',
    in: ['stats'],
    type: COUNT,
    unit: '{walk}',
    optional: true,
    description: 'Metrics walks not made because the output was blocked, since the start (see the lost record).',
  },
  {
    name: 'listeners',
    in: ['stats'],
    type: listenerList,
    optional: true,
    description: `Listening sockets, in every namespace, that dropped connections since they were created, or had connections queued or handshakes in progress at the last metrics walk; at most ${LISTENERS_LISTED}, most drops first. Present when not empty (and after the first metrics walk).`,
  },
  {
    name: 'hooks',
    in: ['stats'],
    type: { type: 'array', items: { type: 'string' } },
    description: 'The kernel hooks in use, as program-type/attach-point (for example tp_btf/inet_sock_set_state).',
  },
  {
    name: 'bytes_from',
    in: ['stats'],
    type: { enum: ['calls', 'counters'] },
    optional: true,
    description:
      "Where this trace's byte counts come from (--hook-strategy): calls, the sums of the application's send and receive calls; counters, TCP's own counters (payload acknowledged by the peer, payload received in order). The man page's ACCURACY section says what each counts.",
  },
  {
    name: 'started_at',
    in: ['stats'],
    type: DATE_TIME,
    optional: true,
    description:
      "When tracing started (the programs were attached), RFC 3339 UTC: with the final record's timestamp, the span the capture covers (summarize divides rates by it).",
  },
  {
    name: 'final',
    in: ['stats'],
    type: BOOLEAN,
    description: 'true for the record written when tracing stops.',
  },

  // `nettracer check --json`.
  {
    name: 'ok',
    in: ['check'],
    type: BOOLEAN,
    description: 'true when every required item passed: `nettracer trace` would start.',
  },
  { name: 'kernel', in: ['check'], type: TEXT, description: 'Kernel release (uname -r).' },
  {
    name: 'hook_strategy',
    in: ['check'],
    type: { type: ['string', 'null'] },
    description:
      "The hook strategy --hook-strategy auto would take here: calls (byte counts from the application's send and receive calls) or counters (from TCP's own counters); null when nettracer cannot trace here.",
  },
  {
    name: 'hooks',
    in: ['check'],
    type: { type: 'array', items: { type: 'string' } },
    description: 'The hooks that would be attached, as program-type/attach-point.',
  },
  {
    name: 'items',
    in: ['check'],
    type: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'ok', 'required', 'detail'],
        properties: {
          name: {
            type: 'string',
            description:
              'What was checked (kernel, btf, privileges, tracepoint names, iterator, load, after attaching: whom a run becomes and what it keeps, capacity).',
          },
          ok: { type: 'boolean', description: 'Whether it passed.' },
          required: {
            type: 'boolean',
            description:
              'true: tracing cannot work without it; false: tracing works with less (the detail says what is lost).',
          },
          detail: { type: 'string', description: 'What was found.' },
          fix: { type: 'string', description: 'What to do about a failed item.' },
        },
      },
    },
    description: 'Each thing checked, in order.',
  },

  // `nettracer summarize`.
  {
    name: 'window_start',
    in: ['summary'],
    type: DATE_TIME,
    description: 'Start of the window, RFC 3339 UTC.',
  },
  {
    name: 'window_end',
    in: ['summary'],
    type: DATE_TIME,
    description: 'End of the window, RFC 3339 UTC.',
  },
  {
    name: 'window_s',
    in: ['summary'],
    type: { type: 'number', exclusiveMinimum: 0 },
    unit: 's',
    description:
      'Length of the window in seconds, as much of it as the input covered (the last window of a capture ends with its last record, a live one when tracing stopped): the divisor of the traffic rates.',
  },
  {
    name: 'dimension',
    in: ['summary'],
    type: { enum: ['process', 'container', 'host'] },
    description:
      'What the record aggregates: one process (pid and comm), one container (container_id), or the whole host.',
  },
  {
    name: 'host',
    in: ['summary'],
    type: TEXT,
    description: 'Host name of the machine that was traced (where summarize ran, for a capture).',
  },
  {
    name: 'pid',
    in: ['summary'],
    type: COUNT,
    optional: true,
    description: 'Process id, for dimension process.',
  },
  {
    name: 'comm',
    in: ['summary'],
    type: TEXT,
    optional: true,
    description: 'Process name, for dimension process.',
  },
  {
    name: 'container_id',
    in: ['summary'],
    type: TEXT,
    optional: true,
    description: 'Container id, for dimension container.',
  },
  {
    name: 'pod_uid',
    in: ['summary'],
    type: TEXT,
    optional: true,
    description: 'Kubernetes pod UID of the container, when known.',
  },
  {
    name: 'sessions',
    in: ['summary'],
    type: COUNT,
    unit: '{session}',
    description: 'Connection ends active in the window.',
  },
  {
    name: 'bytes_rx',
    in: ['summary'],
    type: { $ref: '#/$defs/stats' },
    unit: 'By',
    description: 'Payload bytes received per session, in bytes.',
  },
  {
    name: 'bytes_tx',
    in: ['summary'],
    type: { $ref: '#/$defs/stats' },
    unit: 'By',
    description: 'Payload bytes sent per session, in bytes.',
  },
  {
    name: 'pkts_rx',
    in: ['summary'],
    type: COUNT,
    unit: '{segment}',
    description: 'TCP segments received, all sessions.',
  },
  {
    name: 'pkts_tx',
    in: ['summary'],
    type: COUNT,
    unit: '{segment}',
    description: 'TCP segments sent, all sessions.',
  },
  {
    name: 'pkts_retr',
    in: ['summary'],
    type: COUNT,
    unit: '{segment}',
    description: 'TCP segments retransmitted, all sessions.',
  },
  {
    name: 'retr_percentage',
    in: ['summary'],
    type: { type: 'number', minimum: 0, maximum: 100 },
    unit: '%',
    description: 'pkts_retr / (pkts_retr + pkts_tx) x 100; 0 when nothing was sent.',
  },
  {
    name: 'rtt',
    in: ['summary'],
    type: {
      type: 'object',
      additionalProperties: false,
      required: ['avg', 'min', 'max'],
      properties: {
        avg: { type: 'number', minimum: 0, description: 'Mean RTT, ms.' },
        min: { type: 'number', minimum: 0, description: 'Smallest session RTT, ms.' },
        max: { type: 'number', minimum: 0, description: 'Largest session RTT, ms.' },
      },
    },
    unit: 'ms',
    optional: true,
    description:
      'Smoothed RTT in milliseconds over the sessions that reported one (the last value of each session in the window). Absent when none did (no sample is not an RTT of 0 ms).',
  },
  {
    name: 'traffic',
    in: ['summary'],
    type: AMOUNT,
    unit: 'bit/s',
    description: '(bytes_rx.sum + bytes_tx.sum) x 8 / window_s, bit/s.',
  },
  {
    name: 'traffic_rx',
    in: ['summary'],
    type: AMOUNT,
    unit: 'bit/s',
    description: 'bytes_rx.sum x 8 / window_s, bit/s.',
  },
  {
    name: 'traffic_tx',
    in: ['summary'],
    type: AMOUNT,
    unit: 'bit/s',
    description: 'bytes_tx.sum x 8 / window_s, bit/s.',
  },
  {
    name: 'connects',
    in: ['summary'],
    type: COUNT,
    unit: '{connection}',
    optional: true,
    description:
      'Outgoing connections established in the window (connect records). Absent in summaries from nettracer before 0.2.',
  },
  {
    name: 'connects_failed',
    in: ['summary'],
    type: COUNT,
    unit: '{attempt}',
    optional: true,
    description: 'Outgoing connection attempts that failed in the window (connect_failed records, whatever the error).',
  },
  {
    name: 'connect_failure_rate',
    in: ['summary'],
    type: { type: 'number', minimum: 0, maximum: 100 },
    unit: '%',
    optional: true,
    description:
      'connects_failed / (connects + connects_failed) x 100. Absent when there was no attempt: no attempt is not a 0% failure rate.',
  },
  {
    name: 'resets_received',
    in: ['summary'],
    type: COUNT,
    unit: '{connection}',
    optional: true,
    description: 'Connection ends that closed in the window because the peer reset them (close_reason reset_received).',
  },
  {
    name: 'resets_sent',
    in: ['summary'],
    type: COUNT,
    unit: '{connection}',
    optional: true,
    description:
      'Connection ends that closed in the window with a reset from this end (close_reason aborted or reset_sent).',
  },
  {
    name: 'skipped_lines',
    in: ['summary'],
    type: COUNT,
    unit: '{line}',
    optional: true,
    description:
      'With --skip-invalid: input lines skipped as invalid so far, when this record was printed (a running total: the last record counts the whole input). Absent without --skip-invalid.',
  },

  // `nettracer validate --json`.
  {
    name: 'ok',
    in: ['validation'],
    type: BOOLEAN,
    description: 'true when every line is a valid record (nettracer validate exits 0).',
  },
  { name: 'lines', in: ['validation'], type: COUNT, unit: '{line}', description: 'Lines read.' },
  {
    name: 'invalid',
    in: ['validation'],
    type: COUNT,
    unit: '{line}',
    description: 'Lines that are not a valid record of their type.',
  },
  {
    name: 'errors',
    in: ['validation'],
    type: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['line', 'error'],
        properties: {
          line: { type: 'integer', minimum: 1, description: 'Line number, from 1.' },
          error: { type: 'string', description: 'What is wrong with it.' },
        },
      },
    },
    description: `The first ${ERRORS_LISTED} invalid lines, in order; invalid counts them all.`,
  },
];

/** The record types a field's `in` names. */
export function recordsOf(f: FieldDef): readonly RecordType[] {
  return typeof f.in === 'string' ? GROUPS[f.in].records : f.in;
}

/** A record type's fields, in order (`type` itself not included). */
export function fieldsOf(type: RecordType): FieldDef[] {
  return FIELDS.filter((f) => recordsOf(f).includes(type));
}

/** The schema of a field's value, with its own description where it has one. */
export function schemaOf(f: FieldDef): Schema {
  const base: Schema = typeof f.type === 'string' ? TYPES[f.type] : f.type;
  return f.description ? { ...base, description: f.description } : base;
}

/** The original NetTracer's average header bytes per packet (--header-size). */
export const HEADER_BYTES = { ipv4: 66, ipv6: 77 } as const;
