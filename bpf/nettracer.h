/* Records shared by the BPF program (bpf/nettracer.bpf.c) and the loader
 * (native/). The only definition of the wire layout: fixed-width fields,
 * explicit padding; src/generated/wire.ts (offsets, kinds, flags) is
 * generated from this file by scripts/gen-wire.ts and checked in the build.
 * A member named like a record field (src/record/fields.ts) carries it.
 */
#ifndef NETTRACER_H
#define NETTRACER_H

#define NT_COMM_LEN 16
#define NT_ADDR_LEN 16

/* What a record says happened. */
enum nt_kind {
	NT_CONNECT = 1,	       /* outgoing connection reached ESTABLISHED */
	NT_ACCEPT = 2,	       /* incoming connection established and its owner known */
	NT_CLOSE = 3,	       /* connection reached CLOSE; counters are final */
	NT_METRICS = 4,	       /* periodic snapshot of an open connection */
	NT_EXISTING = 5,       /* found already open when tracing started (discovery walk) */
	NT_LISTEN = 6,	       /* a listening socket (sport, netns; in metrics walks, its queues) */
	NT_CONNECT_FAILED = 7, /* an outgoing attempt closed before ESTABLISHED (sk_err) */
};

/* How a connection end closed (nt_record.close_reason, close records), or
 * how an attempt ended (connect_failed records: abandoned, else sk_err). */
enum nt_close_reason {
	NT_CLOSE_UNKNOWN = 0,
	NT_CLOSE_FIN_LOCAL = 1,	     /* orderly; this end sent the first FIN */
	NT_CLOSE_FIN_REMOTE = 2,     /* orderly; the peer sent the first FIN */
	NT_CLOSE_RESET_SENT = 3,     /* TCP sent a reset (an abort: ss -K, data after close) */
	NT_CLOSE_RESET_RECEIVED = 4, /* the peer reset it */
	NT_CLOSE_TIMEOUT = 5,	     /* retransmissions or keepalive probes gave up */
	NT_CLOSE_ABORTED = 6,	/* closed by this end with SO_LINGER 0 or unread data: a reset */
	NT_CLOSE_ABANDONED = 7, /* connect_failed: closed by the application while connecting */
};

enum nt_direction {
	NT_DIR_UNKNOWN = 0,
	NT_DIR_OUTGOING = 1,
	NT_DIR_INCOMING = 2,
};

/* nt_record.flags */
#define NT_F_ANNOUNCED	 0x01 /* connect/accept record already sent */
#define NT_F_PID_UNKNOWN 0x02 /* incoming connection closed before any process accepted it */
#define NT_F_PREEXISTING 0x04 /* open before tracing started: start_ns is when it was found */

struct nt_record {
	__u64 id;		 /* socket cookie: stable per connection end */
	__u64 ts_ns;		 /* CLOCK_BOOTTIME when the record was made */
	__u64 start_ns;		 /* CLOCK_BOOTTIME when the connection was established */
	__u64 bytes_sent;	 /* payload bytes the application wrote */
	__u64 bytes_received;	 /* payload bytes the application read */
	__u8 saddr[NT_ADDR_LEN]; /* local address; IPv4 in the first 4 bytes */
	__u8 daddr[NT_ADDR_LEN]; /* remote address */
	char comm[NT_COMM_LEN];
	__u32 pid;		     /* thread-group id of the owner */
	__u32 netns;		     /* network namespace inode number */
	__u32 packets_sent;	     /* tcp_sock.segs_out */
	__u32 packets_received;	     /* tcp_sock.segs_in */
	__u32 packets_retransmitted; /* tcp_sock.total_retrans */
	__u32 rtt_us;		     /* tcp_sock.srtt_us >> 3 */
	__u32 rtt_var_us;	     /* tcp_sock.mdev_us >> 2, as TCP_INFO's tcpi_rttvar */
	__u16 sport;		     /* local port, host order */
	__u16 dport;		     /* remote port, host order */
	__u8 kind;		     /* enum nt_kind */
	__u8 family;		     /* 4 or 6 */
	__u8 direction;		     /* enum nt_direction */
	__u8 flags;		     /* NT_F_* */
	__u32 owner_start; /* owner's start, clock ticks since boot: /proc/PID/stat field 22 */
	__u64 cgroup_id;   /* owner's cgroup (v2 hierarchy) id: the cgroupfs inode */
	__u16 sk_err;	   /* close, connect_failed: the socket's error (an errno), 0: none */
	__u8 close_reason; /* close, connect_failed: enum nt_close_reason */
	__u8 _pad;
	/* A listener in a metrics walk (NT_LISTEN): its queues, as ss -tlnm shows them. */
	__u32 listen_drops;	  /* SYNs and handshake ends dropped: a queue was full (sk_drops) */
	__u32 accept_queue;	  /* established, waiting for accept() */
	__u32 accept_queue_max;	  /* the backlog listen() asked for, capped by somaxconn */
	__u32 half_open;	  /* handshakes in progress (SYN received, SYN-ACK sent) */
	__u32 synack_retransmits; /* SYN-ACKs sent again since tracing started: ACKs that did not
				     come */
};

#define NT_RECORD_SIZE 160

/* What to trace, in the program's .data: user space sets it before load and
 * may change it while tracing (a re-read --config), without a reload. */
/* The most values --pid and --port each take (given several times: any of them). */
#define NT_FILTER_VALUES 8

struct nt_filters {
	__u8 loopback; /* 1: hide loopback connections */
	__u8 family;   /* 0: any; 4 or 6 (IPv4-mapped IPv6 counts as 4) */
	__u8 comm_on;
	__u8 addr_on;	  /* local or remote address in a CIDR */
	__u8 addr_family; /* 4 or 6 */
	__u8 addr_prefix; /* bits */
	__u8 npids;	  /* 0: any; else the owner is one of pids[0, npids) */
	__u8 nports;	  /* 0: any; else the local or remote port is one of ports[0, nports) */
	__u32 pids[NT_FILTER_VALUES];
	__u16 ports[NT_FILTER_VALUES];
	__u32 netns; /* 0: any; else a namespace inode */
	__u32 _pad2;
	__u8 addr[NT_ADDR_LEN];
	char comm[NT_COMM_LEN];
};

/* The connection table's array part (bpf/nettracer.bpf.c): buckets of
 * NT_TABLE_WAYS slots, at most 2^NT_TABLE_BUCKET_BITS_MAX buckets; user space
 * sizes it to --map-size within that. */
#define NT_TABLE_WAYS		 8
#define NT_TABLE_BUCKET_BITS_MAX 12
/* The index of the hash part's keys (the table walk's): at most this many
 * places; user space sizes it to --map-size. */
#define NT_OVF_SLOTS_MAX 4096

/* Network namespaces and users with a share of the table (--table-share)
 * kept at once; beyond, the least recently used start again from 0. */
#define NT_SHARES_MAX 16384
/* --table-share's default: percent of the table one of them may hold. */
#define NT_TABLE_SHARE_DEFAULT 25

/* A share of the table, as user space reads it (netns_shares, user_shares). */
struct nt_share {
	__s64 held;    /* places held now */
	__u64 refused; /* connections refused for want of a place */
};

/* What a metrics walk (iter/task_file, run on demand) does besides reporting
 * the metrics of tracked connections. */
enum nt_walk {
	NT_WALK_METRICS = 0, /* metrics records only */
	NT_WALK_LISTENERS =
		1, /* also listening sockets (NT_LISTEN), to tell incoming from outgoing */
	NT_WALK_EXISTING = 2, /* also adopt connections open before tracing started (NT_EXISTING) */
};

/* The walk over the connection table (program walk, run a page at a time):
 * records per page at most, and the page start that means no page left.
 * The hash part of the table is gone through from its start at each page
 * (bpf_for_each_map_elem cannot resume), skipping what the walk reported:
 * large pages keep that small (1,000,000 entries: 62 pages). */
#define NT_WALK_PAGE 16384
#define NT_WALK_DONE 0xffffffff

/* The tracer's health, in the program's .bss; user space reads it mapped. */
struct nt_health {
	__u64 records_lost;	 /* ring buffer full: a record could not be reserved */
	__u64 insert_failed;	 /* connection table full: a connection is not tracked */
	__u64 records_sent;	 /* records submitted to the ring buffer */
	__u64 unaccepted_closes; /* incoming connections closed before accept() */
	__s64 tracked;		 /* entries in the connection table now */
};

#endif
