// SPDX-License-Identifier: GPL-2.0
/* nettracer's kernel side: tracepoints and a BPF iterator only (kprobes and
 * fentry are not available on every kernel we run on). What each program is
 * for, which are optional and since when the kernel has them: the hook table,
 * native/hooks.cc (the loader refuses an object that differs from it).
 *
 * Nothing runs per packet: segment, retransmission and RTT counters are read
 * from struct tcp_sock when a record is made. Nothing runs per system call
 * either: an incoming connection's owner is the first process that sends,
 * receives, closes or holds it (raw_syscalls:sys_exit would tell accept()'s
 * caller, but makes every system call on the host slower: measured 1.25-1.55x
 * on a syscall-bound process).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "nettracer.h"

#define AF_INET	    2
#define AF_INET6    10
#define IPPROTO_TCP 6
#define MSG_PEEK    2
#define S_IFMT	    00170000
#define S_IFSOCK    0140000

/* tcp_states.h */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_CLOSE	7
#define TCP_CLOSE_WAIT	8
#define TCP_LAST_ACK	9
#define TCP_LISTEN	10
#define TCP_CLOSING	11

/* errno.h */
#define EPIPE	     32
#define ECONNABORTED 103
#define ECONNRESET   104
#define ETIMEDOUT    110

/* sock.h: enum sock_flags */
#define SOCK_LINGER 4

/* sock.h: sk_shutdown */
#define RCV_SHUTDOWN  1
#define SEND_SHUTDOWN 2

char LICENSE[] SEC("license") = "GPL";

/* The bench loads a build with -DNT_HOOKS_ONLY (make -C bpf hooks-only):
 * the same hooks attached, every program returning at once, to measure what
 * attaching them costs before any of our work. */
#ifdef NT_HOOKS_ONLY
#define HOOK_ENTRY() return 0
#else
#define HOOK_ENTRY() ((void)0)
#endif

/* Chosen by the user, written before load so the verifier prunes. */
const volatile bool io_hooks = true;   /* sock_{send,recv}_length attached */
const volatile __u64 wakeup_bytes = 0; /* 0: wake the reader for every record */

/* Filters may change while tracing (a re-read --config): .data, not rodata. */
volatile struct nt_filters filters = {.loopback = 1, .addr_family = 4};

/* Written by user space before each metrics walk, to report each socket once. */
__u64 walk_gen = 0;
/* enum nt_walk, set by user space before each walk. The start-up walks go
 * listeners first, so user space knows every listener before the first
 * adopted connection. */
__u32 walk_kind = NT_WALK_METRICS;

struct nt_health health = {};

struct conn {
	struct nt_record rec;
	__u64 gen;	  /* last metrics walk that reported this connection */
	__u32 uid;	  /* the socket's owner (sk_uid), for its share of the table */
	__u16 charged;	  /* CHARGED_*: the shares it holds a place in */
	__u16 reset_sent; /* TCP sent a reset on it (tcp_send_reset) before it closed */
};

/* Tracked connections, keyed by the struct sock address (sk_key(); never
 * shown to users: records carry the socket cookie). Two parts:
 *
 *   fast_keys/fast_conns  a set-associative array: a key hashes to one bucket
 *                         of FAST_WAYS slots, whose keys share a cache line.
 *                         Lookups are inlined loads, an insert claims a slot
 *                         with one compare-and-swap: no allocation, no lock.
 *   conns                 a hash map for what does not fit its bucket.
 *
 * The hash map alone cost about half of our run time on a connection churn
 * (its update, lookup and delete: ~0.5, 0.1 and 0.3 us). At most `capacity`
 * (--map-size) connections are tracked in both parts together. */
#define FAST_WAYS NT_TABLE_WAYS
/* Buckets: 2^fast_bucket_bits, set by user space to fit --map-size, up to
 * 4096 (32,768 slots, 4.5 MiB): beyond that the hash map takes the rest. */
#define FAST_BUCKETS_MAX (1 << NT_TABLE_BUCKET_BITS_MAX)
#define FAST_SLOTS_MAX	 (FAST_BUCKETS_MAX * FAST_WAYS)
/* A slot's key while its record is being written: keys are multiples of 8,
 * so no lookup matches it. */
#define SLOT_BUSY 1

const volatile __u32 fast_bucket_bits = 12;

struct ways {
	__u64 key[FAST_WAYS]; /* 0: free */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FAST_BUCKETS_MAX);
	__type(key, __u32);
	__type(value, struct ways);
} fast_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FAST_SLOTS_MAX);
	__type(key, __u32);
	__type(value, struct conn);
} fast_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct conn);
} conns SEC(".maps");

const volatile __s64 capacity = 262144; /* --map-size */
/* Entries in conns now: 0 spares misses a hash lookup. */
__s64 overflowed = 0;

/* The keys of conns, for the table walk: going over a hash map visits every
 * one of its buckets (262,144 at the default --map-size: about 2.6 ms a walk
 * however few entries it holds, and a few hundred overflow their bucket
 * whenever ten thousand connections are tracked). An insert into conns puts
 * its key in one of OVF_PROBES places from its hash, a removal takes it out;
 * a key that found no place makes the index incomplete, and walks go over
 * conns itself from then on. Its size, ovf_slots, follows --map-size. */
#define OVF_SLOTS_MAX NT_OVF_SLOTS_MAX
#define OVF_PROBES    8
const volatile __u32 ovf_slots = OVF_SLOTS_MAX; /* a power of two */
bool ovf_incomplete = false;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OVF_SLOTS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ovf_keys SEC(".maps");

/* Shares of the table (--table-share): every connection outside the host's
 * network namespace holds a place in its namespace's share, every one of a
 * socket owner other than root a place in that user's share; a share holds
 * at most share_limit. So one namespace or one user (however many user and
 * network namespaces it makes: its sockets keep its uid) cannot fill the
 * table and blind the tracer to everyone else. Connections of root in the
 * host's namespace hold no share and cost no lookup here. */
#define CHARGED_NETNS 1
#define CHARGED_USER  2

const volatile __s64 share_limit = 0; /* 0: no shares */
const volatile __u32 host_netns = 0;  /* the inode of nettracer's own network namespace */

/* LRU: tenants nobody has used for long make room for new ones; an evicted
 * tenant's places are forgotten (it starts again from 0). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NT_SHARES_MAX);
	__type(key, __u32);
	__type(value, struct nt_share);
} netns_shares SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NT_SHARES_MAX);
	__type(key, __u32);
	__type(value, struct nt_share);
} user_shares SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Scratch for building a new entry: struct conn is too big for the stack
 * budget once records are copied around. A program building one can be
 * interrupted on its CPU by another that does (a softirq's ESTABLISHED in
 * the middle of an application's connect(), or of the start-up walk), so
 * each level of nesting has its own: scratch_depth counts the levels open
 * on this CPU. They close in the order opposite to the one they opened in,
 * so a plain increment and decrement are safe. */
#define SCRATCH_LEVELS 3

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_LEVELS);
	__type(key, __u32);
	__type(value, struct conn);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} scratch_depth SEC(".maps");

/* Socket fields are read with direct loads: every hook gets BTF-typed
 * pointers, and a load costs far less than a bpf_probe_read_kernel() call. */
static __always_inline bool is_tcp(const struct sock *sk)
{
	return sk->sk_protocol == IPPROTO_TCP;
}

static __always_inline bool loopback_addr(const struct nt_record *r)
{
	if (r->family == 4)
		return r->daddr[0] == 127;
	/* ::1 */
	__u64 hi, lo;
	__builtin_memcpy(&hi, r->daddr, 8);
	__builtin_memcpy(&lo, r->daddr + 8, 8);
	if (hi == 0 && lo == bpf_cpu_to_be64(1))
		return true;
	/* ::ffff:127.0.0.0/8 */
	return hi == 0 && r->daddr[8] == 0 && r->daddr[9] == 0 && r->daddr[10] == 0xff &&
	       r->daddr[11] == 0xff && r->daddr[12] == 127;
}

/* Fill the tuple and namespace: only valid while the socket is established
 * (skc_num reads 0 once it is closing). */
static __always_inline void read_tuple(const struct sock *sk, struct nt_record *r)
{
	const struct sock_common *skc = &sk->__sk_common;

	if (skc->skc_family == AF_INET6) {
		r->family = 6;
		for (int i = 0; i < 4; i++) {
			((__u32 *)r->saddr)[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			((__u32 *)r->daddr)[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
		}
	} else {
		r->family = 4;
		*(__u32 *)r->saddr = skc->skc_rcv_saddr;
		*(__u32 *)r->daddr = skc->skc_daddr;
	}
	r->sport = skc->skc_num;
	r->dport = bpf_ntohs(skc->skc_dport);
	r->netns = skc->skc_net.net->ns.inum;
}

static __always_inline bool v4_mapped(const __u8 *a)
{
	__u64 hi;
	__builtin_memcpy(&hi, a, 8);
	return hi == 0 && a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff;
}

/* Is address `a` of a socket of `family` inside the --addr CIDR? */
static __always_inline bool in_cidr(const __u8 *a, __u8 family)
{
	int off = 0;
	if (filters.addr_family == 4) {
		if (family == 6) {
			if (!v4_mapped(a))
				return false;
			off = 12;
		}
	} else if (family != 6) {
		return false;
	}
	for (int i = 0; i < NT_ADDR_LEN; i++) {
		int bits = filters.addr_prefix - i * 8;
		if (bits <= 0)
			break;
		__u8 mask = bits >= 8 ? 0xff : (__u8)(0xff << (8 - bits));
		if (((a[(off + i) & 15] ^ filters.addr[i]) & mask) != 0)
			return false;
	}
	return true;
}

/* --pid given: the owner is one of them. Bounded loops: the verifier takes
 * them (Linux 5.3+), and a filter of 8 values costs at most 8 compares. */
static __always_inline bool pid_wanted(__u32 pid)
{
	__u8 n = filters.npids;

	if (!n)
		return true;
	for (int i = 0; i < NT_FILTER_VALUES; i++) {
		if (i >= n)
			break;
		if (filters.pids[i] == pid)
			return true;
	}
	return false;
}

/* --port given: the local or the remote port is one of them. */
static __always_inline bool port_wanted(__u16 sport, __u16 dport)
{
	__u8 n = filters.nports;

	if (!n)
		return true;
	for (int i = 0; i < NT_FILTER_VALUES; i++) {
		if (i >= n)
			break;
		if (filters.ports[i] == sport || filters.ports[i] == dport)
			return true;
	}
	return false;
}

/* Filters on the connection itself (tuple, namespace), applied as soon as the
 * tuple is known: what is filtered out is never tracked. At connect() the
 * local port is not chosen yet (and the local address may not be): `early`
 * leaves the port and address filters to ESTABLISHED. */
static __always_inline bool conn_filtered(const struct nt_record *r, bool early)
{
	if (filters.loopback && loopback_addr(r))
		return true;
	if (filters.netns && r->netns != filters.netns)
		return true;
	if (filters.family) {
		__u8 fam = r->family == 6 && v4_mapped(r->daddr) ? 4 : r->family;
		if (fam != filters.family)
			return true;
	}
	if (early)
		return false;
	if (!port_wanted(r->sport, r->dport))
		return true;
	if (filters.addr_on && !in_cidr(r->saddr, r->family) && !in_cidr(r->daddr, r->family))
		return true;
	return false;
}

/* Filters on the owner, applied when the owner is known. */
static __always_inline bool owner_filtered(__u32 pid, const char *comm)
{
	if (!pid_wanted(pid))
		return true;
	if (filters.comm_on) {
		for (int i = 0; i < NT_COMM_LEN; i++) {
			if (comm[i] != filters.comm[i])
				return true;
			if (comm[i] == 0)
				break;
		}
	}
	return false;
}

/* Our FIN has been queued in these states (for a close: the state before
 * CLOSE). */
static __always_inline bool fin_queued(int state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
	       state == TCP_LAST_ACK;
}

/* Payload bytes from TCP's own counters (as TCP_INFO reports them), for the
 * path without the send/receive hooks and for connections found at start.
 * Measured on 6.18: bytes_acked counts an active open's SYN, and our FIN
 * once it is acknowledged; bytes_received counts the peer's FIN once it is
 * received in order, when RCV_SHUTDOWN is set (a local shutdown(SHUT_RD)
 * sets it too: then one byte too few). `active`: an outgoing connection;
 * `fin_sent`: fin_queued() of the state. */
static __always_inline void payload_of(__u64 acked, bool all_acked, __u64 received, bool rcv_shut,
				       bool active, bool fin_sent, struct nt_record *r)
{
	if (active && acked)
		acked--;
	if (fin_sent && all_acked && acked)
		acked--;
	if (rcv_shut && received)
		received--;
	r->bytes_sent = acked;
	r->bytes_received = received;
}

static __always_inline void tcp_payload(struct sock *sk, bool active, bool fin_sent,
					struct nt_record *r)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!tp)
		return;
	payload_of(tp->bytes_acked, tp->snd_una == tp->write_seq, tp->bytes_received,
		   BPF_CORE_READ_BITFIELD(sk, sk_shutdown) & RCV_SHUTDOWN, active, fin_sent, r);
}

/* Counters as TCP_INFO reports them; without the send/receive hooks, bytes
 * too (`fin_sent`: see tcp_payload()). */
static __always_inline void read_counters(struct sock *sk, struct nt_record *r, bool fin_sent)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	if (!tp)
		return;
	r->packets_sent = tp->segs_out;
	r->packets_received = tp->segs_in;
	r->packets_retransmitted = tp->total_retrans;
	r->rtt_us = tp->srtt_us >> 3;
	r->rtt_var_us = tp->mdev_us >> 2;
	if (!io_hooks)
		tcp_payload(sk, r->direction == NT_DIR_OUTGOING, fin_sent, r);
}

/* A record of the entry, stamped `ts` (a caller that needs the time twice
 * reads the clock once). */
static __always_inline void emit_at(struct conn *c, __u8 kind, __u64 ts)
{
	struct nt_record *out = bpf_ringbuf_reserve(&events, sizeof(*out), 0);

	if (!out) {
		__sync_fetch_and_add(&health.records_lost, 1);
		return;
	}
	__builtin_memcpy(out, &c->rec, sizeof(*out));
	out->kind = kind;
	out->ts_ns = ts;
	/* Wake the reader only once a good share of the ring is waiting: it
	 * also polls on a short timer, so records are late by at most that
	 * long, and a burst costs one wake-up instead of one per record. */
	__u64 flags = wakeup_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes
			      ? BPF_RB_NO_WAKEUP
			      : BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(out, flags);
	__sync_fetch_and_add(&health.records_sent, 1);
}

static __always_inline void emit(struct conn *c, __u8 kind)
{
	emit_at(c, kind, bpf_ktime_get_boot_ns());
}

/* The current task's name, copied with two loads: bpf_get_current_comm()
 * costs about 120 ns more per call (measured per section on the churn), and
 * the kernel keeps comm NUL-padded to its 16 bytes. */
static __always_inline void current_comm(char *dst)
{
	struct task_struct *task = bpf_get_current_task_btf();

	_Static_assert(sizeof(task->comm) == NT_COMM_LEN, "task comm is 16 bytes");
	__builtin_memcpy(dst, task->comm, NT_COMM_LEN);
}

/* A task's cgroup id (v2) by direct loads: the pointers
 * bpf_get_current_cgroup_id() follows, without its call and RCU bracket
 * (inside a tracing program the RCU read lock is already held). */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

static __always_inline __u64 current_cgroup_id(void)
{
	return task_cgroup_id(bpf_get_current_task_btf());
}

/* When the task's process started, as /proc/PID/stat says it (field 22:
 * clock ticks, USER_HZ 100): with the pid it names one process, so user
 * space can tell a reused pid from the owner (containers.ts). */
static __always_inline __u32 task_start(struct task_struct *task)
{
	return task->group_leader->start_boottime / (1000000000 / 100);
}

static __always_inline void set_owner(struct nt_record *r)
{
	struct task_struct *task = bpf_get_current_task_btf();

	r->pid = bpf_get_current_pid_tgid() >> 32;
	current_comm(r->comm);
	r->cgroup_id = task_cgroup_id(task);
	r->owner_start = task_start(task);
}

/* The same from a task a walk found (not the current one). */
static __always_inline void set_owner_task(struct nt_record *r, struct task_struct *task)
{
	r->pid = task->tgid;
	bpf_probe_read_kernel_str(&r->comm, sizeof(r->comm), task->comm);
	r->cgroup_id = task_cgroup_id(task);
	r->owner_start = task_start(task);
}

/* The record that opens a connection's stream. */
static __always_inline __u8 opening_kind(const struct nt_record *r)
{
	return r->direction == NT_DIR_OUTGOING ? NT_CONNECT : NT_ACCEPT;
}

/* Opens a level of scratch on this CPU: its number, for new_conn(). */
static __always_inline __u32 scratch_open(__u32 **depth)
{
	__u32 zero = 0;

	*depth = bpf_map_lookup_elem(&scratch_depth, &zero);
	if (!*depth)
		return SCRATCH_LEVELS;
	return (**depth)++;
}

static __always_inline void scratch_close(__u32 *depth)
{
	if (depth)
		(*depth)--;
}

/* A zeroed entry in the scratch of `level` (scratch_open()), or NULL. */
static __always_inline struct conn *new_conn(__u32 level)
{
	if (level >= SCRATCH_LEVELS)
		return NULL;
	struct conn *c = bpf_map_lookup_elem(&scratch, &level);

	if (c)
		__builtin_memset(c, 0, sizeof(*c));
	return c;
}

/* A socket's key: its address as a number. The verifier allows no arithmetic
 * on a socket pointer but the difference of two pointers (to a program with
 * CAP_PERFMON), so the key is its distance from one of our globals: unique,
 * never 0, a multiple of 8. */
static __always_inline __u64 sk_key(const void *sk)
{
	return (__u64)sk - (__u64)&health;
}

/* Sockets sit in slabs at a fixed stride, which a plain multiplicative hash
 * maps onto a few buckets (measured: half of 64 sockets spilled into the hash
 * map): mix every bit first (MurmurHash3's finaliser). */
/* A key's bits mixed (socket addresses share their low bits: slab objects). */
static __always_inline __u64 mix(__u64 key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ULL;
	key ^= key >> 33;
	return key;
}

static __always_inline __u32 bucket_of(__u64 key)
{
	return mix(key) >> (64 - fast_bucket_bits);
}

/* Key's bucket in fast_keys (its number in *b), or NULL. */
static __always_inline struct ways *bucket(__u64 key, __u32 *b)
{
	*b = bucket_of(key);
	return bpf_map_lookup_elem(&fast_keys, b);
}

/* The record of slot i of bucket b. */
static __always_inline struct conn *slot_conn(__u32 b, int i)
{
	__u32 s = b * FAST_WAYS + i;
	return bpf_map_lookup_elem(&fast_conns, &s);
}

/* The entry for key, whose bucket is w (number b), or NULL; *slot is its key
 * in w (NULL: in conns). */
static __always_inline struct conn *lookup_in(struct ways *w, __u32 b, __u64 key, __u64 **slot)
{
	*slot = NULL;
	if (w) {
#pragma unroll
		for (int i = 0; i < FAST_WAYS; i++) {
			if (w->key[i] == key) {
				*slot = &w->key[i];
				return slot_conn(b, i);
			}
		}
	}
	if (!overflowed)
		return NULL;
	return bpf_map_lookup_elem(&conns, &key);
}

static __always_inline struct conn *lookup(__u64 key, __u64 **slot)
{
	__u32 b;
	struct ways *w = bucket(key, &b);
	return lookup_in(w, b, key, slot);
}

/* The place in ovf_keys where `from` (0: a free one) is, among key's
 * OVF_PROBES, swapped for `to`; false: none. */
static __always_inline bool ovf_swap(__u64 key, __u64 from, __u64 to)
{
	__u32 h = (__u32)mix(key); /* its low bits: the bucket took the high ones */
#pragma unroll
	for (int i = 0; i < OVF_PROBES; i++) {
		__u32 at = (h + i) & (ovf_slots - 1);
		__u64 *k = bpf_map_lookup_elem(&ovf_keys, &at);
		if (k && *k == from && __sync_val_compare_and_swap(k, from, to) == from)
			return true;
	}
	return false;
}

static __always_inline struct conn *find(__u64 key)
{
	__u64 *slot;
	return lookup(key, &slot);
}

/* Claim a free slot of bucket w (marked busy) and fill it: the key is
 * published only after the record, so nobody reads a half-written entry. */
static __always_inline bool insert_fast(struct ways *w, __u32 b, __u64 key, struct conn *c)
{
#pragma unroll
	for (int i = 0; i < FAST_WAYS; i++) {
		if (w->key[i] != 0 || __sync_val_compare_and_swap(&w->key[i], 0, SLOT_BUSY) != 0)
			continue;
		struct conn *dst = slot_conn(b, i);
		if (!dst) {
			w->key[i] = 0;
			return false;
		}
		__builtin_memcpy(dst, c, sizeof(*c));
		/* An exchange, not a store: fully ordered on every architecture,
		 * so the record is visible before its key. */
		__sync_lock_test_and_set(&w->key[i], key);
		return true;
	}
	return false;
}

/* A place in the share of `who` in `shares`, or false (counted: the
 * connection is refused for good, not retried later). */
static __always_inline bool take_place(void *shares, __u32 who, bool counted)
{
	struct nt_share *sh = bpf_map_lookup_elem(shares, &who);

	if (!sh) {
		struct nt_share fresh = {};
		bpf_map_update_elem(shares, &who, &fresh, BPF_NOEXIST);
		sh = bpf_map_lookup_elem(shares, &who);
		if (!sh)
			return false;
	}
	if (__sync_fetch_and_add(&sh->held, 1) < share_limit)
		return true;
	__sync_fetch_and_add(&sh->held, -1);
	if (counted)
		__sync_fetch_and_add(&sh->refused, 1);
	return false;
}

static __always_inline void give_place(void *shares, __u32 who)
{
	struct nt_share *sh = bpf_map_lookup_elem(shares, &who);

	if (sh) /* else evicted meanwhile: its count started again */
		__sync_fetch_and_add(&sh->held, -1);
}

static __always_inline void release(__u32 charged, __u32 netns, __u32 uid)
{
	if (charged & CHARGED_NETNS)
		give_place(&netns_shares, netns);
	if (charged & CHARGED_USER)
		give_place(&user_shares, uid);
}

/* c's places in the shares of its namespace and its owner (c->charged). */
static __always_inline bool charge(struct conn *c, bool counted)
{
	c->charged = 0;
	if (!share_limit)
		return true;
	if (c->rec.netns != host_netns) {
		if (!take_place(&netns_shares, c->rec.netns, counted))
			return false;
		c->charged |= CHARGED_NETNS;
	}
	if (c->uid != 0) {
		if (!take_place(&user_shares, c->uid, counted)) {
			release(c->charged, c->rec.netns, c->uid);
			c->charged = 0;
			return false;
		}
		c->charged |= CHARGED_USER;
	}
	return true;
}

/* Remove the entry lookup() found; of two racing callers (CLOSE on one CPU,
 * destroy on another) only one counts it (true). */
static __always_inline bool remove_entry(__u64 key, __u64 *slot, struct conn *c)
{
	/* Read before the slot is free: another insert may reuse it at once. */
	__u32 charged = c->charged, netns = c->rec.netns, uid = c->uid;

	if (slot) {
		if (__sync_val_compare_and_swap(slot, key, 0) != key)
			return false;
	} else {
		if (bpf_map_delete_elem(&conns, &key) != 0)
			return false;
		if (!ovf_incomplete) /* else the index is not read again */
			ovf_swap(key, key, 0);
		__sync_fetch_and_add(&overflowed, -1);
	}
	__sync_fetch_and_add(&health.tracked, -1);
	release(charged, netns, uid);
	return true;
}

static __always_inline void forget(__u64 key, __u64 *slot, struct conn *c)
{
	if (!remove_entry(key, slot, c))
		return;
	/* Two inserts of one key racing on two CPUs (the start-up walk and a
	 * hook) can both succeed; lookups find one, and the other would hold a
	 * place forever. It goes with the first. */
	__u64 *dup_slot;
	struct conn *dup = lookup(key, &dup_slot);
	if (dup)
		remove_entry(key, dup_slot, dup);
}

static __always_inline void forget_key(__u64 key)
{
	__u64 *slot;
	struct conn *c = lookup(key, &slot);
	if (c)
		forget(key, slot, c);
}

/* counted: a failure is reported (connections_untracked); an insert at
 * connect() is retried at ESTABLISHED, where it counts. */
static __always_inline bool insert(__u64 key, struct conn *c, bool counted)
{
	__u32 b;
	struct ways *w = bucket(key, &b);
	__u64 *slot;
	struct conn *stale = lookup_in(w, b, key, &slot);

	if (stale) {
		/* An entry for a socket freed without passing CLOSE or destroy,
		 * whose memory now holds this one: it goes, this one takes its
		 * place if its shares allow. */
		forget(key, slot, stale);
	}
	if (!charge(c, counted))
		goto unplaced;
	/* Reserve one of `capacity` places first, so a full table refuses
	 * exactly the connections that do not fit. */
	if (__sync_fetch_and_add(&health.tracked, 1) >= capacity)
		goto refused;
	if (w && insert_fast(w, b, key, c))
		return true;
	__sync_fetch_and_add(&overflowed, 1);
	if (bpf_map_update_elem(&conns, &key, c, BPF_NOEXIST) == 0) {
		if (!ovf_incomplete && !ovf_swap(key, 0, key))
			ovf_incomplete = true; /* for good: walks go over conns */
		return true;
	}
	__sync_fetch_and_add(&overflowed, -1);
refused:
	__sync_fetch_and_add(&health.tracked, -1);
	release(c->charged, c->rec.netns, c->uid);
unplaced:
	if (counted)
		__sync_fetch_and_add(&health.insert_failed, 1);
	return false;
}

/* The process calling connect() is current when the socket leaves CLOSE for
 * SYN_SENT: track the connection from here, with its owner; the tuple is
 * complete (local port chosen) only at ESTABLISHED. */
static __always_inline void on_syn_sent(struct sock *sk, __u32 level)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (!pid_wanted(pid))
		return;
	struct conn *c = new_conn(level);
	if (!c)
		return;
	c->rec.pid = pid;
	current_comm(c->rec.comm);
	if (owner_filtered(pid, c->rec.comm))
		return;
	read_tuple(sk, &c->rec);
	if (conn_filtered(&c->rec, true))
		return;
	c->rec.cgroup_id = current_cgroup_id();
	c->rec.owner_start = task_start(bpf_get_current_task_btf());
	c->rec.direction = NT_DIR_OUTGOING;
	c->uid = sk->sk_uid.val;
	/* When the attempt began: a connect_failed record's duration (ESTABLISHED
	 * sets it anew). */
	c->rec.start_ns = bpf_ktime_get_boot_ns();
	/* The owner is known: the connect record follows at ESTABLISHED. */
	c->rec.flags = NT_F_ANNOUNCED;
	insert(sk_key(sk), c, false);
}

static __always_inline void on_established(struct sock *sk, int oldstate, __u32 level)
{
	__u64 key = sk_key(sk);

	if (oldstate == TCP_SYN_SENT) {
		__u64 *slot;
		struct conn *t = lookup(key, &slot);
		if (t && !t->rec.id) {
			/* Tracked since connect(): complete it in place. */
			read_tuple(sk, &t->rec);
			if (conn_filtered(&t->rec, false)) {
				forget(key, slot, t);
				return;
			}
			t->rec.id = bpf_get_socket_cookie(sk);
			__u64 now = bpf_ktime_get_boot_ns();
			t->rec.start_ns = now;
			read_counters(sk, &t->rec, false);
			emit_at(t, NT_CONNECT, now);
			return;
		}
		if (filters.npids || filters.comm_on)
			return; /* filtered at connect(), or unknown and cannot be matched */
	} else if (oldstate != TCP_SYN_RECV) {
		return;
	}
	/* Passive open (in softirq: current is not the owner), or a connect()
	 * that began before tracing started (or found the table full): the
	 * owner is whoever first sends, receives, closes or holds it in a
	 * metrics walk. */
	struct conn *c = new_conn(level);
	if (!c)
		return;
	read_tuple(sk, &c->rec);
	if (conn_filtered(&c->rec, false))
		return;
	c->rec.id = bpf_get_socket_cookie(sk);
	c->rec.start_ns = bpf_ktime_get_boot_ns();
	c->rec.direction = oldstate == TCP_SYN_RECV ? NT_DIR_INCOMING : NT_DIR_OUTGOING;
	c->uid = sk->sk_uid.val;
	insert(key, c, true);
}

/* Why an established connection end reached CLOSE from `oldstate`. The
 * kernel sets sk_err before it moves a socket to CLOSE: for a reset received
 * (tcp_reset(): ECONNRESET, or EPIPE in CLOSE_WAIT), an abort (tcp_abort(),
 * ss -K: ECONNABORTED, its reset already sent) or a timeout (tcp_write_err():
 * ETIMEDOUT, or the ICMP error that came meanwhile). The reset of an abort
 * by the application (SO_LINGER 0, unread data) goes out only after CLOSE,
 * with no error set yet: no error and no FIN exchanged means that. */
static __always_inline __u8 close_reason(struct sock *sk, struct conn *c, int oldstate)
{
	int err = sk->sk_err;

	if (err == ECONNRESET || err == EPIPE)
		return NT_CLOSE_RESET_RECEIVED;
	if (err == ETIMEDOUT)
		return NT_CLOSE_TIMEOUT; /* keepalive sends a reset as it gives up */
	if (err == ECONNABORTED || c->reset_sent)
		return NT_CLOSE_RESET_SENT; /* also: too many orphans, out of memory */
	if (err)
		return NT_CLOSE_TIMEOUT;
	switch (oldstate) {
	case TCP_LAST_ACK:
		return NT_CLOSE_FIN_REMOTE;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
		/* SO_LINGER 0 after a shutdown(): tcp_disconnect() resets */
		if ((sk->__sk_common.skc_flags & (1UL << SOCK_LINGER)) && !sk->sk_lingertime &&
		    oldstate != TCP_CLOSING)
			return NT_CLOSE_ABORTED;
		return NT_CLOSE_FIN_LOCAL;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_SYN_RECV:
		return NT_CLOSE_ABORTED;
	}
	return NT_CLOSE_UNKNOWN;
}

/* An outgoing attempt that closed in SYN_SENT (tracked since connect(), never
 * established): refused, timed out, unreachable, or abandoned by its
 * application. The local port is gone from skc_num at CLOSE, inet_sport
 * still has it. */
static __always_inline void report_failed(struct sock *sk, struct conn *c)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);

	read_tuple(sk, &c->rec);
	if (tp)
		c->rec.sport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	if (conn_filtered(&c->rec, false))
		return;
	c->rec.id = bpf_get_socket_cookie(sk);
	c->rec.sk_err = sk->sk_err;
	c->rec.close_reason = c->rec.sk_err ? NT_CLOSE_UNKNOWN : NT_CLOSE_ABANDONED;
	/* segs_out: every SYN sent, the retransmitted ones too */
	read_counters(sk, &c->rec, false);
	c->rec.bytes_sent = 0;
	c->rec.bytes_received = 0;
	emit(c, NT_CONNECT_FAILED);
}

/* The close record of a connection end: counters are still intact at CLOSE
 * (and at destruction, for sockets that never passed through CLOSE). */
static __always_inline void report_close(struct sock *sk, int oldstate, bool fin_sent)
{
	__u64 key = sk_key(sk);
	__u64 *slot;
	struct conn *c = lookup(key, &slot);

	if (!c)
		return;
	if (!c->rec.id && oldstate == TCP_SYN_SENT && c->rec.direction == NT_DIR_OUTGOING) {
		report_failed(sk, c);
	} else if (c->rec.id) { /* established at some point */
		read_counters(sk, &c->rec, fin_sent);
		c->rec.close_reason = close_reason(sk, c, oldstate);
		c->rec.sk_err = sk->sk_err;
		if (!(c->rec.flags & NT_F_ANNOUNCED)) {
			/* Closed before any process accepted (or used) it: say so
			 * rather than invent an owner. */
			__sync_fetch_and_add(&health.unaccepted_closes, 1);
			if (!filters.npids && !filters.comm_on) {
				c->rec.flags |= NT_F_ANNOUNCED | NT_F_PID_UNKNOWN;
				__u64 now = bpf_ktime_get_boot_ns();
				emit_at(c, opening_kind(&c->rec), now);
				emit_at(c, NT_CLOSE, now);
			}
		} else {
			emit(c, NT_CLOSE);
		}
	}
	forget(key, slot, c);
}

/* A connection without an owner (incoming, or outgoing from before we
 * started) gets one the first time a process touches it: it sends or
 * receives, it closes, or a metrics walk finds it in the process's files. */
/* The owner just set in c->rec: follow the connection (true: its opening
 * record is due), or stop following it when the filters exclude that process. */
static __always_inline bool adopt_owner(struct conn *c)
{
	if (owner_filtered(c->rec.pid, c->rec.comm)) {
		c->rec.flags |= NT_F_ANNOUNCED | NT_F_PID_UNKNOWN;
		c->rec.id = 0;
		return false;
	}
	c->rec.flags |= NT_F_ANNOUNCED;
	return true;
}

static __always_inline void claim(struct conn *c)
{
	if (c->rec.flags & NT_F_ANNOUNCED)
		return;
	set_owner(&c->rec);
	if (adopt_owner(c))
		emit(c, opening_kind(&c->rec));
}

/* close() and shutdown() move a connection to FIN_WAIT1 or LAST_ACK in the
 * context of the calling process: the owner, if nobody claimed it yet. */
static __always_inline void on_close_call(struct sock *sk)
{
	__u64 key = sk_key(sk);
	struct conn *c = find(key);

	if (c && c->rec.id)
		claim(c);
}

/* Listening sockets (by key), for the table walk's listener records: added
 * when a socket starts listening (or by the start-up listeners walk), gone
 * when it stops. LRU: one that went without our seeing it ages out. */
struct listening {
	__u64 gen; /* the last table walk that reported it */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NT_SHARES_MAX);
	__type(key, __u64);
	__type(value, struct listening);
} listening SEC(".maps");

static __always_inline void note_listener(const struct sock *sk, bool listens)
{
	__u64 key = sk_key(sk);

	if (listens) {
		struct listening fresh = {};
		bpf_map_update_elem(&listening, &key, &fresh, BPF_NOEXIST);
	} else {
		bpf_map_delete_elem(&listening, &key);
	}
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(set_state, struct sock *sk, int oldstate, int newstate)
{
	HOOK_ENTRY();
	if (!is_tcp(sk))
		return 0;
	if (newstate == TCP_LISTEN || oldstate == TCP_LISTEN)
		note_listener(sk, newstate == TCP_LISTEN);
	if (newstate == TCP_SYN_SENT || newstate == TCP_ESTABLISHED) {
		__u32 *depth;
		__u32 level = scratch_open(&depth);
		if (newstate == TCP_SYN_SENT)
			on_syn_sent(sk, level);
		else
			on_established(sk, oldstate, level);
		scratch_close(depth);
	} else if (newstate == TCP_CLOSE)
		report_close(sk, oldstate, fin_queued(oldstate));
	else if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)
		on_close_call(sk);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(destroy_sock, struct sock *sk)
{
	HOOK_ENTRY();
	/* Reached without CLOSE: whether a FIN went out, the shutdown says best;
	 * the state it is in stands for the one before. */
	report_close(sk, sk->__sk_common.skc_state,
		     BPF_CORE_READ_BITFIELD(sk, sk_shutdown) & SEND_SHUTDOWN);
	return 0;
}

/* A reset TCP sends on a connection that stays open until its CLOSE, with
 * no error to tell why (too many orphans, out of memory), for
 * close_reason(). Resets for segments no socket wanted come with no sk. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	HOOK_ENTRY();
	if (!sk)
		return 0;
	struct conn *c = find(sk_key(sk));
	if (c)
		c->reset_sent = 1;
	return 0;
}

/* SYN-ACKs sent again, per listener (its key): handshakes whose last ACK did
 * not come in time. Read by the metrics walks; LRU, as listeners come and go. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NT_SHARES_MAX);
	__type(key, __u64);
	__type(value, __u32);
} synack_retransmits SEC(".maps");

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	HOOK_ENTRY();
	if (!sk)
		return 0;
	__u64 key = sk_key(sk);
	__u32 *n = bpf_map_lookup_elem(&synack_retransmits, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else {
		__u32 one = 1;
		bpf_map_update_elem(&synack_retransmits, &key, &one, BPF_NOEXIST);
	}
	return 0;
}

static __always_inline void count_io(struct sock *sk, int ret, bool sent)
{
	if (ret <= 0 || !is_tcp(sk))
		return;
	__u64 key = sk_key(sk);
	__u64 *slot;
	struct conn *c = lookup(key, &slot);
	if (!c)
		return;
	__u64 *bytes = sent ? &c->rec.bytes_sent : &c->rec.bytes_received;
	__sync_fetch_and_add(bytes, ret);
	/* A close on another CPU may have freed the slot since the lookup, and
	 * another connection taken it: then the bytes, and the claim, are not
	 * its. (Entries of the hash map are not reused while we run.) */
	if (slot && *(volatile __u64 *)slot != key) {
		__sync_fetch_and_add(bytes, -ret);
		return;
	}
	if (!(c->rec.flags & NT_F_ANNOUNCED))
		claim(c);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(send_length, struct sock *sk, int ret, int flags)
{
	HOOK_ENTRY();
	count_io(sk, ret, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(recv_length, struct sock *sk, int ret, int flags)
{
	HOOK_ENTRY();
	if (flags & MSG_PEEK)
		return 0;
	count_io(sk, ret, false);
	return 0;
}

/* Discovery (the start-up walks only): a TCP socket that is not tracked is either a
 * listener (reported so user space can tell incoming from outgoing) or a
 * connection that was open before we started: adopt it, with the process
 * that holds it as owner. */
static __always_inline void discover(struct bpf_iter__task_file *ctx, struct sock *sk, __u32 level)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if ((family != AF_INET && family != AF_INET6) || !is_tcp(sk))
		return;
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	struct task_struct *task = ctx->task;
	struct conn *c = new_conn(level);
	if (!c || !task)
		return;
	read_tuple(sk, &c->rec);
	if (walk_kind == NT_WALK_LISTENERS) {
		if (state == TCP_LISTEN) {
			note_listener(sk, true);
			c->rec.kind = NT_LISTEN;
			bpf_seq_write(ctx->meta->seq, &c->rec, sizeof(c->rec));
		}
		return;
	}
	if (state != TCP_ESTABLISHED && state != TCP_CLOSE_WAIT)
		return;
	set_owner_task(&c->rec, task);
	if (conn_filtered(&c->rec, false) || owner_filtered(c->rec.pid, c->rec.comm))
		return;
	c->rec.id = bpf_get_socket_cookie(sk);
	c->rec.start_ns = bpf_ktime_get_boot_ns();
	c->rec.flags = NT_F_ANNOUNCED | NT_F_PREEXISTING;
	c->gen = walk_gen;
	c->uid = BPF_CORE_READ(sk, sk_uid.val);
	read_counters(sk, &c->rec, false);
	/* Bytes before we started, from TCP's own counters; the hooks add every
	 * call from now on. The direction is not known here: user space takes
	 * off the SYN of an outgoing one. */
	tcp_payload(sk, false, false, &c->rec);
	__u64 key = sk_key(sk);
	if (!insert(key, c, true))
		return;
	c->rec.kind = NT_EXISTING;
	c->rec.ts_ns = c->rec.start_ns;
	/* A full output page makes the kernel run us again for this file on
	 * the next read: undo, so that run finds it anew. */
	if (bpf_seq_write(ctx->meta->seq, &c->rec, sizeof(c->rec)))
		forget_key(key);
}

/* A listener found by a metrics walk: its queues, for the stats record. A
 * socket shared by several processes is written once per holder; user space
 * keeps one per id. */
static __always_inline void report_listener(struct bpf_iter__task_file *ctx, struct sock *sk,
					    __u32 level)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct conn *c = new_conn(level);
	if (!tp || !c)
		return;
	read_tuple(sk, &c->rec);
	c->rec.id = bpf_get_socket_cookie(sk);
	c->rec.kind = NT_LISTEN;
	c->rec.ts_ns = bpf_ktime_get_boot_ns();
	__u32 drops = sk->sk_drops.counter;
	if (bpf_core_field_exists(sk->sk_drop_counters) && sk->sk_drop_counters) {
		drops += sk->sk_drop_counters->drops0.counter;
		drops += sk->sk_drop_counters->drops1.counter;
	}
	c->rec.listen_drops = drops;
	c->rec.accept_queue = sk->sk_ack_backlog;
	c->rec.accept_queue_max = sk->sk_max_ack_backlog;
	c->rec.half_open = tp->inet_conn.icsk_accept_queue.qlen.counter;
	__u64 key = sk_key(sk);
	__u32 *n = bpf_map_lookup_elem(&synack_retransmits, &key);
	if (n)
		c->rec.synack_retransmits = *n;
	bpf_seq_write(ctx->meta->seq, &c->rec, sizeof(c->rec));
}

/* An unclaimed connection found in a process's files: that process owns
 * it. Its connect/accept record goes to the walk's output, before its first
 * metrics record. */
static __always_inline bool claim_in_walk(struct bpf_iter__task_file *ctx, struct conn *c)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return false;
	set_owner_task(&c->rec, task);
	if (!adopt_owner(c))
		return false;
	c->rec.kind = opening_kind(&c->rec);
	c->rec.ts_ns = bpf_ktime_get_boot_ns();
	if (bpf_seq_write(ctx->meta->seq, &c->rec, sizeof(c->rec)) == 0)
		return true;
	c->rec.flags &= ~NT_F_ANNOUNCED; /* the kernel runs us again for this file */
	return false;
}

/* Metrics walk: every open file of every process; each tracked socket once
 * per walk. Writes whole nt_records to the iterator's output. */
SEC("iter/task_file")
int metrics(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;

	if (!file)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	struct sock *sk = sock->sk; /* a BTF pointer: bpf_get_socket_cookie() takes it */
	if (!sk)
		return 0;
	__u64 key = sk_key(sk);
	struct conn *c = find(key);
	/* The listeners walk reports listeners only: user space keeps nothing
	 * else of it, so a connection claimed here would lose its opening
	 * record (seen as a close without connect or accept). */
	if (walk_kind == NT_WALK_LISTENERS && c)
		return 0;
	if (!c) {
		/* Metrics walks: only listeners are of interest, the rest cheaply out. */
		if (walk_kind == NT_WALK_METRICS &&
		    (!is_tcp(sk) || BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN))
			return 0;
		__u32 *depth;
		__u32 level = scratch_open(&depth);
		if (walk_kind != NT_WALK_METRICS)
			discover(ctx, sk, level);
		else
			report_listener(ctx, sk, level);
		scratch_close(depth);
		return 0;
	}
	if (!c->rec.id || c->gen == walk_gen)
		return 0;
	bool claimed = false;
	if (!(c->rec.flags & NT_F_ANNOUNCED)) {
		claimed = claim_in_walk(ctx, c);
		if (!claimed)
			return 0;
	}
	struct nt_record r;
	__builtin_memcpy(&r, &c->rec, sizeof(r));
	read_counters(sk, &r, fin_queued(BPF_CORE_READ(sk, __sk_common.skc_state)));
	r.kind = NT_METRICS;
	r.ts_ns = bpf_ktime_get_boot_ns();
	/* Reported once per walk; a write that did not fit is retried by the
	 * kernel on the next read (this run's output is dropped, the claim
	 * too), so only a written record counts. */
	if (bpf_seq_write(ctx->meta->seq, &r, sizeof(r)) == 0)
		c->gen = walk_gen;
	else if (claimed)
		c->rec.flags &= ~NT_F_ANNOUNCED;
	return 0;
}

/* The metrics walk over the connection table itself (program walk, run by
 * user space with BPF_PROG_TEST_RUN a page at a time): its cost follows the
 * tracked connections, whatever else the host has open (the file walk above
 * visits every open file of every process: measured 143 ms per walk with
 * 475,000 unrelated files). The kernel's own iterators over map elements
 * (iter/bpf_map_elem, iter/bpf_sk_storage_map, iter/sockmap) would do, but
 * are refused (EPERM) on our kernels, like trampolines. A page writes at
 * most WALK_PAGE records to walk_out, in .bss: user space reads them from
 * its mapping (no copy through a ring, no lock, no header per record)
 * before it runs the next page. The walk holds no reference to the sockets: their fields are
 * read with reads that cannot fault (direct loads through bpf_rdonly_cast()
 * in walk_direct, probe reads in walk), and a record is made only if the
 * entry is still there afterwards (an entry goes at CLOSE, before its socket
 * is freed). */
#define WALK_PAGE  NT_WALK_PAGE
#define WALK_SLOTS 16384 /* slots of the array part per page at most */
#define WALK_DONE  NT_WALK_DONE

/* The page's records, walk_written of them. */
struct nt_record walk_out[WALK_PAGE] = {};
__u32 walk_written = 0;

/* Set by the walk: tracked connections held by a process that no process
 * has touched yet. User space then runs the file walk (walk_kind metrics),
 * which finds their owners and reports them after their opening records. */
__u64 walk_unowned = 0;
/* The address of health, as a number: a socket's address is its key plus
 * this (sk_key()). */
__u64 walk_base = 0;

struct walk_page {
	__u64 base;
	__u64 ts;      /* the page's time: its records' ts_ns */
	__u32 first;   /* the page's first slot */
	__u32 resume;  /* the slot to start the next page at, when full */
	__u32 written; /* records */
	bool full;
};

/* Direct reads (walk_direct): bpf_rdonly_cast() (a kfunc, Linux 6.2+) makes
 * the socket's address a read-only BTF pointer, whose fields are plain loads
 * (a fault reads 0) instead of a bpf_probe_read_kernel() call each: measured
 * 0.49 -> 0.23 us per connection in the walk. __weak: on a kernel without it
 * the object still loads (libbpf leaves the extern unresolved), and only
 * walk_direct calls it, which the loader then does not load. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

static __always_inline struct tcp_sock *tcp_at(__u64 addr)
{
	return bpf_rdonly_cast((void *)addr, bpf_core_type_id_kernel(struct tcp_sock));
}

/* As read_counters(), from the socket at addr: with direct loads (direct) or
 * probe reads, the same values. */
static __always_inline void read_counters_at(__u64 addr, struct nt_record *r, bool direct)
{
	if (direct) {
		struct tcp_sock *tp = tcp_at(addr);
		struct sock *sk = &tp->inet_conn.icsk_inet.sk;

		r->packets_sent = tp->segs_out;
		r->packets_received = tp->segs_in;
		r->packets_retransmitted = tp->total_retrans;
		r->rtt_us = tp->srtt_us >> 3;
		r->rtt_var_us = tp->mdev_us >> 2;
		if (io_hooks)
			return;
		payload_of(tp->bytes_acked, tp->snd_una == tp->write_seq, tp->bytes_received,
			   BPF_CORE_READ_BITFIELD(sk, sk_shutdown) & RCV_SHUTDOWN,
			   r->direction == NT_DIR_OUTGOING, fin_queued(sk->__sk_common.skc_state),
			   r);
		return;
	}
	struct tcp_sock *tp = (void *)addr;
	struct sock *sk = (void *)addr;

	r->packets_sent = BPF_CORE_READ(tp, segs_out);
	r->packets_received = BPF_CORE_READ(tp, segs_in);
	r->packets_retransmitted = BPF_CORE_READ(tp, total_retrans);
	r->rtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	r->rtt_var_us = BPF_CORE_READ(tp, mdev_us) >> 2;
	if (io_hooks)
		return;
	bool fin_sent = fin_queued(BPF_CORE_READ(sk, __sk_common.skc_state));
	payload_of(BPF_CORE_READ(tp, bytes_acked),
		   BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq),
		   BPF_CORE_READ(tp, bytes_received),
		   BPF_CORE_READ_BITFIELD_PROBED(sk, sk_shutdown) & RCV_SHUTDOWN,
		   r->direction == NT_DIR_OUTGOING, fin_sent, r);
}

/* The socket at addr is still held by a file (sk_socket). */
static __always_inline bool has_file_at(__u64 addr, bool direct)
{
	if (direct)
		return tcp_at(addr)->inet_conn.icsk_inet.sk.sk_socket;
	return BPF_CORE_READ((struct sock *)addr, sk_socket);
}

/* The metrics record of entry c (key; slot: its key in the array part, NULL
 * in conns) into walk_out. 1 stops the page: full. */
static __always_inline long walk_conn(struct walk_page *p, __u64 key, struct conn *c, __u64 *slot,
				      __u32 at, bool direct)
{
	__u64 id = c->rec.id;

	if (!id || c->gen == walk_gen)
		return 0;
	if (p->written >= WALK_PAGE) {
		p->full = true;
		p->resume = at;
		return 1;
	}
	__u64 addr = key + p->base;
	if (!has_file_at(addr, direct)) {
		/* Closed by its owner, finishing its close: no file holds it,
		 * and the file walk would not report it either. */
		c->gen = walk_gen;
		return 0;
	}
	if (!(c->rec.flags & NT_F_ANNOUNCED)) {
		walk_unowned++;
		return 0;
	}
	__u32 n = p->written;
	if (n >= WALK_PAGE)
		return 1;
	struct nt_record *r = &walk_out[n];
	__builtin_memcpy(r, &c->rec, sizeof(*r));
	read_counters_at(addr, r, direct);
	/* Still tracked: the socket was not freed while we read it. */
	if (slot) {
		if (*(volatile __u64 *)slot != key || *(volatile __u64 *)&c->rec.id != id)
			return 0;
	} else {
		struct conn *now = bpf_map_lookup_elem(&conns, &key);
		if (!now || now->rec.id != id)
			return 0;
	}
	r->kind = NT_METRICS;
	r->ts_ns = p->ts;
	c->gen = walk_gen;
	p->written = n + 1;
	return 0;
}

static __always_inline long walk_slot(__u32 i, struct walk_page *p, bool direct)
{
	__u32 s = p->first + i;
	__u32 b = s / FAST_WAYS;
	struct ways *w = bpf_map_lookup_elem(&fast_keys, &b);

	if (!w)
		return 1;
	__u64 *slot = &w->key[s % FAST_WAYS];
	__u64 key = *slot;
	if (key <= SLOT_BUSY)
		return 0;
	struct conn *c = slot_conn(b, s % FAST_WAYS);
	if (!c)
		return 0;
	return walk_conn(p, key, c, slot, s, direct);
}

/* bpf_loop() and bpf_for_each_map_elem() callbacks, one set per way of
 * reading: walk_direct's alone call bpf_rdonly_cast(). */
static long walk_slot_probe(__u32 i, struct walk_page *p)
{
	return walk_slot(i, p, false);
}

static long walk_slot_direct(__u32 i, struct walk_page *p)
{
	return walk_slot(i, p, true);
}

/* Place i of ovf_keys: a key of conns, or 0. */
static __always_inline long walk_ovf(__u32 i, struct walk_page *p, bool direct)
{
	__u64 *k = bpf_map_lookup_elem(&ovf_keys, &i);

	if (!k)
		return 1;
	__u64 key = *k;
	if (!key)
		return 0;
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	if (!c)
		return 0;
	return walk_conn(p, key, c, NULL, FAST_WAYS << fast_bucket_bits, direct);
}

static long walk_ovf_probe(__u32 i, struct walk_page *p)
{
	return walk_ovf(i, p, false);
}

static long walk_ovf_direct(__u32 i, struct walk_page *p)
{
	return walk_ovf(i, p, true);
}

static long walk_hashed_probe(struct bpf_map *map, __u64 *key, struct conn *c, struct walk_page *p)
{
	return walk_conn(p, *key, c, NULL, FAST_WAYS << fast_bucket_bits, false);
}

static long walk_hashed_direct(struct bpf_map *map, __u64 *key, struct conn *c, struct walk_page *p)
{
	return walk_conn(p, *key, c, NULL, FAST_WAYS << fast_bucket_bits, true);
}

/* A listener's record with its queues, as report_listener() makes it, from
 * the socket at addr. */
static __always_inline bool read_listener_at(__u64 key, __u64 addr, struct nt_record *r)
{
	struct sock *sk = (void *)addr;
	struct inet_connection_sock *icsk = (void *)addr;

	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN)
		return false;
	if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET6) {
		r->family = 6;
		bpf_core_read(r->saddr, NT_ADDR_LEN, &sk->__sk_common.skc_v6_rcv_saddr);
	} else {
		r->family = 4;
		*(__u32 *)r->saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	}
	r->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	r->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	/* The socket cookie when it has one (its id only tells listeners apart). */
	r->id = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter) ?: key;
	__u32 drops = BPF_CORE_READ(sk, sk_drops.counter);
	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		struct numa_drop_counters *dc = BPF_CORE_READ(sk, sk_drop_counters);
		if (dc)
			drops += BPF_CORE_READ(dc, drops0.counter) +
				 BPF_CORE_READ(dc, drops1.counter);
	}
	r->listen_drops = drops;
	r->accept_queue = BPF_CORE_READ(sk, sk_ack_backlog);
	r->accept_queue_max = BPF_CORE_READ(sk, sk_max_ack_backlog);
	r->half_open = BPF_CORE_READ(icsk, icsk_accept_queue.qlen.counter);
	__u32 *n = bpf_map_lookup_elem(&synack_retransmits, &key);
	if (n)
		r->synack_retransmits = *n;
	return true;
}

static long walk_listener(struct bpf_map *map, __u64 *key, struct listening *l, struct walk_page *p)
{
	if (l->gen == walk_gen)
		return 0;
	if (p->written >= WALK_PAGE) {
		p->full = true;
		return 1;
	}
	__u32 n = p->written;
	if (n >= WALK_PAGE)
		return 1;
	struct nt_record *r = &walk_out[n];
	__builtin_memset(r, 0, sizeof(*r));
	__u64 k = *key;
	/* Still listening, and still in the map after the reads: the socket
	 * was not freed while we read it. */
	if (!read_listener_at(k, k + p->base, r) || !bpf_map_lookup_elem(&listening, &k))
		return 0;
	r->kind = NT_LISTEN;
	r->ts_ns = p->ts;
	l->gen = walk_gen;
	p->written = n + 1;
	return 0;
}

/* A page of the walk, from slot ctx[0] of the array part (past its end:
 * conns, then listening); returns where the next page starts, or WALK_DONE. Each walk
 * starts at 0 with a new walk_gen, which reports each entry once. */
static __always_inline int walk_pages(__u64 *ctx, bool direct)
{
	struct walk_page p = {.first = ctx[0]};
	__u32 slots = FAST_WAYS << fast_bucket_bits;

	if (p.first == WALK_DONE)
		return WALK_DONE; /* a trial run (can we still run it?) */

	walk_base = (__u64)&health;
	p.base = *(volatile __u64 *)&walk_base;
	p.ts = bpf_ktime_get_boot_ns();
	walk_written = 0;
	/* Read back, so the verifier takes the count for any number below
	 * WALK_PAGE, rather than follow each value through bpf_loop's callback
	 * ("the sequence of 8193 jumps is too complex"). */
	p.written = *(volatile __u32 *)&walk_written;
	if (p.first < slots) {
		__u32 n = slots - p.first;
		if (n > WALK_SLOTS)
			n = WALK_SLOTS;
		bpf_loop(n, direct ? walk_slot_direct : walk_slot_probe, &p, 0);
		walk_written = p.written;
		return p.full ? p.resume : p.first + n;
	}
	if (p.first == slots) {
		if (overflowed && !ovf_incomplete)
			bpf_loop(ovf_slots, direct ? walk_ovf_direct : walk_ovf_probe, &p, 0);
		else if (overflowed)
			bpf_for_each_map_elem(
				&conns, direct ? walk_hashed_direct : walk_hashed_probe, &p, 0);
		if (p.full) {
			walk_written = p.written;
			return slots;
		}
	}
	/* Then the listeners, with their queues (the stats record's). */
	bpf_for_each_map_elem(&listening, walk_listener, &p, 0);
	walk_written = p.written;
	return p.full ? slots + 1 : WALK_DONE;
}

/* The loader loads one of the two (native/hooks.cc): walk_direct where the
 * kernel has bpf_rdonly_cast(), walk elsewhere (or NETTRACER_WALK_READS=probe).
 * Their records are the same. */
SEC("raw_tp")
int walk(__u64 *ctx)
{
	return walk_pages(ctx, false);
}

SEC("raw_tp")
int walk_direct(__u64 *ctx)
{
	return walk_pages(ctx, true);
}
