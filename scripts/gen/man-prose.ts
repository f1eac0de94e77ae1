// The man page's prose: what no table or definition generates.
// scripts/gen/man.ts puts it between the generated sections.
import { MAX_LINE_BYTES } from '../../src/input/lines.js';
import { ERRORS_LISTED, RECORDS } from '../../src/record/fields.js';

export const FORMATS_AND_CONFIG = `.SH "OUTPUT FORMATS"
\\fB\\-\\-format\\fR chooses: \\fBndjson\\fR (default when standard output is not a terminal),
\\fBlines\\fR (default on a terminal: EVENT LINES below), \\fBtable\\fR, \\fBlog\\fR or
\\fBlegacy\\fR. The last three are the original NetTracer's, reproduced to the character where it
had them. \\fBnettracer replay\\fR prints a capture in any of the four for people, with the same
formatters: one capture serves every reader.
.PP
Process names are text in every format (\\fBcomm\\fR under RECORDS): printable UTF\\-8 as it is; a
name with a backslash, a control character, invalid UTF\\-8 or an invisible formatting character
(zero\\-width spaces, bidirectional overrides and the like) has its bytes other than printable ASCII
escaped as \\exNN and its backslashes as \\ex5c, so a name cannot rewrite the terminal or pass for
another. The tables for people (\\fBtable\\fR, and \\fBsummarize \\-\\-format table\\fR, which reads
captures that may hold anything) show the control and invisible formatting characters of any text
as their UTF\\-8 bytes, \\exNN, too.
.SS "LOG FORMAT"
Each line: local time, thread id, level, logger name, message, as spdlog's
pattern "%Y\\-%m\\-%d %H:%M:%S.%e [%t] %l [nettracer] %v":
.PP
.nf
.RS
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] Starting NetTracer v0.1.0
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] time_interval: 30
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] map_size: 262144
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] BPF program loaded
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] Starting TCP IPv4 events
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] Starting TCP IPv6 events
2026\\-11\\-26 14:03:05.100 [3199] info [nettracer] Starting BPF debug counters logger (interval=300s, cpus=2)
2026\\-11\\-26 14:03:05.479 [3199] info [nettracer] event connect 127.0.0.1:51234 \\-> 127.0.0.1:80 NS:4026531840 PID:1234
2026\\-11\\-26 14:03:05.479 [3199] info [nettracer] event accept 127.0.0.1:80 <\\- 127.0.0.1:51234 NS:4026531840 PID:1234
2026\\-11\\-26 14:03:35.480 [3199] info [nettracer] 127.0.0.1:51234 \\-> 127.0.0.1:80 NS:4026531840 \\- stats: Bytes sent=1000 Bytes received=333
2026\\-11\\-26 14:03:35.480 [3199] info [nettracer] 127.0.0.1:80 <\\- 127.0.0.1:51234 NS:4026531840 \\- stats: Bytes sent=333 Bytes received=1000
2026\\-11\\-26 14:03:35.480 [3199] info [nettracer] 127.0.0.1:51234 \\-> 127.0.0.1:80 NS:4026531840 \\- TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22
2026\\-11\\-26 14:03:35.480 [3199] info [nettracer] 127.0.0.1:80 <\\- 127.0.0.1:51234 NS:4026531840 \\- TCP stats: Retransmissions=0 Segs_in=10 Segs_out=8 RTT=40 RTT_var=20
2026\\-11\\-26 14:03:40.001 [3199] info [nettracer] event close 127.0.0.1:51234 \\-\\- 127.0.0.1:80 NS:4026531840 PID:1234
2026\\-11\\-26 14:03:44.200 [3199] info [nettracer] Events stopped
2026\\-11\\-26 14:03:44.200 [3199] info [nettracer] NetTracer stop reason 0
.RE
.fi
.PP
As the original's (nettracer.cpp, connections_printing.cpp): the start\\-up lines, then events
as they come: \\fBconnect\\fR with \\fB\\->\\fR, \\fBaccept\\fR with \\fB<\\-\\fR (the local, listening
side first), \\fBclose\\fR with \\fB\\-\\-\\fR. Every interval, IPv4 then IPv6, first a \\fBstats\\fR
line for every connection, then a \\fBTCP stats\\fR line for every connection: totals since it was
established, without header bytes whatever \\-i and \\-s say; RTT and RTT_var in microseconds;
the arrow is its direction, \\fB\\-\\-\\fR for a connection no event named (open before tracing).
A closed connection gets its final lines at the next interval, then no more. An IPv6 socket
between IPv4\\-mapped addresses is written ::ffff:a.b.c.d, with the IPv6 ones. No interval is
printed at exit: "Events stopped" and "NetTracer stop reason 0" end the log. The tracer's health
is logged every \\-\\-stats\\-interval as "[bpf_debug_counters] delta:      name=N ..." with the
counters that grew (records_lost, connections_untracked, hook_misses, metrics_walks_skipped),
not when none did, never at exit. Loss is logged at level \\fBwarning\\fR ("lost events
records:N connections:M", nettracer's own), failed attempts at \\fBdebug\\fR (see FAILED ATTEMPTS
AND HOW CONNECTIONS END). On a terminal the level is coloured, as spdlog's
colour sink does. \\fB\\-d\\fR sets the lowest level written.
.SS "LEGACY FORMAT"
At start and then every interval, one line per connection, IPv4 first, then IPv6 (where an
IPv6 socket between IPv4\\-mapped addresses is, in IPv4 layout), then a line holding a single
space; nothing at exit. A closed connection is printed once more, with the closed bit set, then
drops out; so does one whose counters did not change for 60 s (the original's inactivity
timeout). Only a connect or accept event sets the E and D bits and the start: a connection open
before tracing prints 000 and no start or duration, as the original's. Fields, all
right\\-aligned to a minimum width:
.TS
l l l.
width	field	printed as
12	now, Unix seconds	decimal
1+1+1	space, family, space	0 IPv4 (and mapped), 1 IPv6
8 or 32	local address	hex, upper case (see below)
1+4	space, local port	hex, 4 digits
1+1+1	space, family, space	as above
8 or 32	remote address	hex, upper case
1+4+1	space, remote port, space	hex, 4 digits
12	PID	decimal
12	netns inode	decimal
1+3+1	space, E D C, space	established, incoming, closed
22	bytes sent	decimal (a)
22	bytes received	decimal (a)
22	packets sent	decimal (b)
22	packets received	decimal (b)
22	retransmissions	decimal (b)
12	RTT, microseconds	decimal
12	RTT variance, microseconds	decimal
16	start, Unix seconds	decimal (c)
9	duration, seconds	decimal (c)
.TE
.PP
(a) With \\-s plus 66 (IPv4) or 77 (IPv6) bytes per packet; with \\-i since the last print.
(b) With \\-i since the last print; totals go on past 2^32, where the kernel's 32\\-bit counters
start again from 0. (c) Connections whose connect or accept was seen only: the start, and the
whole seconds from it until now or until the close (a 1.302 s connection is 1).
.PP
An IPv4 line is 233 characters, an IPv6 line 281. Byte order of the address fields, as the
original prints them on little\\-endian machines: an IPv4 address a.b.c.d is the four bytes
reversed, d c b a, each as two hex digits: 127.0.0.1 is 0100007F, 10.0.0.1 is 0100000A (as in
/proc/net/tcp). An IPv6 address is its first eight bytes reversed, then its last eight bytes
reversed: ::1 is 00000000000000000100000000000000, 2001:db8::1 is
00000000B80D01200100000000000000. Ports are the port numbers in hex: 80 is 0050, 51234 is C822.
Example (an open outgoing connection, split here at the counters):
.PP
.nf
.RS
  1700000030 0 0100007F C822 0 0100007F 0050         1234  4026531840 100
                  1000                   333                    10                     8
                     0          45          22      1700000000       30
.RE
.fi
.SS "TABLE"
The original's interactive view, to the character: no borders; the header once
(local address, remote address, pid, bytes sent, "bytes received ", rtt), then at start, every
interval and when Enter is pressed a row per connection, IPv4 then IPv6, left\\-aligned in
columns a sixth of the terminal wide and at least 22, and
"Number of passive tcp sessions: P, active: A, established: E". Bytes are totals without
header bytes and rtt is in microseconds, whatever \\-i and \\-s say. A closed connection is
shown once more; one idle for 60 s is dropped.
.SH "MIGRATING FROM NETTRACER"
.B nettracer\\-compat
(also
.BR "nettracer compat \\-\\- " ...)
takes the original's command line and args file unchanged, as its boost::program_options
grammar reads them: \\-\\-time_interval 10, \\-t10, \\-\\-time=10 (a long prefix),
\\-\\-args_file FILE (name=value lines; its options replace the command line's, and a switch
line sets the switch whatever its value), \\-\\-test, \\-n, \\-r, \\-e, \\-i, \\-s, \\-f,
\\-c, \\-b, \\-p, \\-\\-counters_interval, \\-v, \\-h. It prints what the original prints:
the log on standard output (the level coloured on a terminal) with its start\\-up lines
(Starting NetTracer v..., time_interval: N, map_size: N, BPF program loaded) and shutdown lines
(Events stopped, NetTracer stop reason N); with \\-n the table on a terminal and the legacy
lines otherwise or with \\-r. \\-l DIR appends the log to DIR/oneagent_nettracer_<pid>.log
(opened as \\-\\-output is: no link followed, 0600). map_size above 1048576 is clamped with
the original's message; a \\-d level other than debug and trace means info; \\-f matters
for the table only, as in the original: its log and legacy lines show loopback connections
whatever \\-f says. Bad usage prints
boost's message and the help on standard output and exits 1; a failure logs its error and
"NetTracer stop reason N" and exits N, the original's ReturnCodes: 1 without the privileges to
load (InsufficientCapabilities), 2 for anything else (GenericError). When the args file changes
the original restarts; nettracer\\-compat applies the new options without losing tracked
connections and logs what the original's restart logs (Events stopped, NetTracer stop reason 3,
then the start\\-up lines); map_size, log, no_stdout_log, noninteractive, events, bpf and program
wait for the next start (standard error says which). The args file, read as root, must be
root's or the invoking user's. Not carried over: \\-p (nettracer loads its own program), a \\-l
that is not a writable directory exits 2 where the original aborts, and the log file is not
rotated at 10 MiB.
.PP
.B nettracer trace
keeps its own flags and names the new ones when given an old one (\\-\\-time_interval: "did
you mean \\-t/\\-\\-interval, or nettracer\\-compat"). Its \\-\\-config takes the original's
option names too; no_stdout_log, noninteractive and clear_probes are explained, not applied:
use \\-\\-format legacy or table, and nettracer pins nothing to clear.
`;

export const ENVIRONMENT = `.SH ENVIRONMENT
.TP
.B NETTRACER_WALK_READS
How the metrics walk over the tracked connections reads each socket: \\fBauto\\fR (unset: direct
loads where the kernel has bpf_rdonly_cast, Linux 6.2+, else a probe read per field),
\\fBprobe\\fR (probe reads, as older kernels run them) or \\fBdirect\\fR (direct loads, or exit 4
on a kernel without them). The records are the same either way; direct loads take about half the
walk's kernel time per connection. Any other value is a usage error (exit 2).
\\fBnettracer check\\fR says which reads the walk uses here (its "walk reads" item).
`;

export const DIAGNOSTICS = `.SH DIAGNOSTICS
Every error is one line on standard error, starting with "nettracer: ", and one of the exit
statuses below; never a stack trace. A failure of the kernel or of libbpf is said in words with
its number: "(errno N)", or "(libbpf error N)" for libbpf's own codes (4000 and up, enum
libbpf_errno of libbpf.h), such as "BPF object format invalid (libbpf error 4001)".
\\fB\\-\\-verbose\\fR adds libbpf's own messages, the verifier's log among them.
`;

export const EXIT_STATUS_HEAD = `.SH "EXIT STATUS"
.TP
.B 0
Tracing ended as asked: \\fB\\-\\-duration\\fR or \\fB\\-\\-count\\fR reached, SIGINT or SIGTERM received,
or the reader of the output went away (a closed pipe). \\fBsummarize\\fR and \\fBvalidate\\fR: the
input was read to its end (for \\fBvalidate\\fR, every line a valid record).
.TP
.B 1
Tracing failed while running, for example the output could not be written (disk full).
\\fBvalidate\\fR: a line is not a valid record.
.TP
.B 2
Bad usage: an unknown flag or an invalid value (nothing was loaded or written), or an input
file that cannot be read. \\fBsummarize\\fR without \\fB\\-\\-skip\\-invalid\\fR: a line of its input is not
a valid record (the windows closed before it were printed).
.TP
.B 3
Missing privileges to load BPF programs.
.TP
.B 4
`;

export const SIGNALS_TO_END = `
.SH SIGNALS
SIGINT and SIGTERM stop tracing: records still in the kernel's ring buffer are written, then one
last \\fBmetrics\\fR record for every open connection, then any loss not yet reported; then
everything is detached and nettracer exits 0. Connections still open get no \\fBclose\\fR record.
.SH "THE CONNECTION TABLE"
nettracer follows at most \\fB\\-\\-map\\-size\\fR connection ends at once; what does not fit is
counted in \\fBconnections_untracked\\fR. The table is shared by everyone on the host, and any user
can make network namespaces of their own (unshare \\-rn) and hold connections in them. So that one
namespace or one user cannot fill it and blind nettracer to everyone else, each network namespace
other than nettracer's own, and each socket owner other than root (by the socket's uid on the host,
however many user namespaces it made), may hold at most \\fB\\-\\-table\\-share\\fR percent of the
table (default 25; 100 turns shares off). A connection whose namespace or owner holds its share
already is not followed; \\fBstats\\fR records list them in \\fBuntracked_by_netns\\fR and
\\fBuntracked_by_user\\fR (places held now, connections refused since the start), and they count in
\\fBconnections_untracked\\fR. Root's connections in nettracer's namespace hold no share. Up to 16384
namespaces and users are counted at once; beyond, the least recently active start again from 0.
.SH "A SLOW READER"
When the reader of standard output stops reading (a pipe into a stalled process, a terminal
on hold), nettracer stops producing rather than queueing: it leaves the kernel's ring buffer
undrained (what no longer fits is counted in \\fBrecords_lost\\fR), suspends a metrics walk
where it is and goes on from there later, does not make the metrics walks that fall due
meanwhile (counted in \\fBmetrics_walks_skipped\\fR), and holds back stats and lost records,
whose counts carry over. Its memory then stays bounded: beyond the stream's buffer, at most one
chunk (1024 records from the ring, or one 64 KiB read of a walk) is queued. When the reader is
back, the first \\fBlost\\fR record says what was lost meanwhile: records written plus
\\fBrecords_lost\\fR equal the records the kernel produced. At exit the last records are
written whatever the reader does, which may queue what the ring holds and one last walk.
Output to a file (\\fB\\-w\\fR) is written synchronously and never queues.
.SH PRIVILEGES
Loading the programs needs root, or the capabilities CAP_BPF and CAP_PERFMON (nothing else: tested with setpriv).
Everything nettracer loads is tied to its own file descriptors: nothing is pinned, and the kernel
removes it all when the process exits, however it exits.
.PP
Started as root, nettracer gives up root once its programs are attached and its output is open.
It becomes \\fB\\-\\-user\\fR: by default the system user \\fBnettracer\\fR (\\fBnpm run setup\\fR creates
it), else an id in 61184\\-65519 that no account and no running process has; never a user such as
\\fBnobody\\fR that other processes share and could signal it as. It keeps no capability unless a
\\fBbpf\\fR(2) call on its own programs shows it needs one on this kernel (some kernels before 5.19
with unprivileged BPF disabled need CAP_BPF, found by trying); it clears its bounding set, sets
no_new_privs on every thread, and is not dumpable (its memory and /proc files stay root's).
\\fB\\-\\-verbose\\fR and the \\fB\\-\\-ready\\-fd\\fR line say whom it runs as and what it kept.
\\fB\\-\\-keep\\-privileges\\fR stays root.
.SH CONTAINERS
\\fBcontainer_id\\fR, \\fBcontainer_runtime\\fR, \\fBpod_uid\\fR and \\fBqos_class\\fR come from the owner's
cgroup path in /proc/PID/cgroup, and only where the runtime itself puts a container, from the root
of the hierarchy: /system.slice/docker\\-ID.scope and /docker/ID (docker),
/machine.slice/libpod\\-ID.scope (podman), and under /kubepods.slice or /kubepods the kubelet's
pod cgroups with cri\\-containerd\\-ID.scope, crio\\-ID.scope, docker\\-ID.scope or a bare ID.
A cgroup named like a container anywhere else (any user can name cgroups under
user@UID.service) is no container; a pod uid must be a UUID. The path is read only while the pid
still holds the process that owned the connection (its start time is in the kernel's record), so
a reused pid is never attributed; answers are kept by cgroup id on cgroup v2 hosts and by pid and
start time on cgroup v1 and hybrid hosts, for up to 100000 owners. Paths are as nettracer's
cgroup namespace shows them: run it in the host's.
.SH EXAMPLES
Closed connections with their final counters:
.PP
.nf
.RS
sudo nettracer trace | jq \\-c 'select(.type == "close") | {comm, daddr, dport, bytes_sent, rtt_us}'
.RE
.fi
.PP
Deltas every 10 seconds for port 443 only:
.PP
.nf
.RS
sudo nettracer trace \\-\\-port 443 \\-i \\-t 10
.RE
.fi
.PP
A one\\-minute capture to a file, then the ten busiest connection ends:
.PP
.nf
.RS
sudo nettracer trace \\-\\-duration 60 \\-w capture.ndjson
jq \\-s 'map(select(.type == "close")) | sort_by(\\-.bytes_sent) | .[:10]' capture.ndjson
.RE
.fi
.SH "SEE ALSO"
.BR ss (8),
.BR tcplife (8),
.BR bpftool (8)
`;

export const ACCURACY = `.SH ACCURACY
Byte counts come from one of two places, chosen by \\fB\\-\\-hook\\-strategy\\fR; every
\\fBstats\\fR record says which in \\fBbytes_from\\fR. The test suite runs every truth test on
both, against the traffic generator's own counts and TCP_INFO, with and without forced loss.
.TP
.B calls
(\\fBauto\\fR where the kernel has sock:sock_send_length and sock:sock_recv_length, Linux 6.3+)
\\fBbytes_sent\\fR is the sum of the application's successful send and write calls on the
socket, \\fBbytes_received\\fR the sum of its successful receive and read calls (MSG_PEEK
excluded). Data written but never delivered (the connection reset or aborted) is counted.
An accepted connection's owner is known at its first send, receive or close, or at the next
metrics walk.
.TP
.B counters
(\\fBauto\\fR on every other kernel; \\fB\\-b counters\\fR anywhere)
\\fBbytes_sent\\fR is the payload the peer acknowledged, \\fBbytes_received\\fR the payload
received in order, read by the application or not: TCP's own counters (tcpi_bytes_acked and
tcpi_bytes_received of TCP_INFO), less the SYN of an outgoing connection, our FIN once
acknowledged and the peer's FIN once received. Data written but never acknowledged (a reset
or abort with data in flight, a peer gone) is not counted. A local shutdown(SHUT_RD) before
the peer's FIN makes \\fBbytes_received\\fR one byte short. An accepted connection's owner is
known at its close or at the next metrics walk.
.PP
On both paths, the packet, retransmission and RTT fields are TCP's own counters (as TCP_INFO
reports them, read when the record is made); retransmitted data is counted once in the bytes.
A connection found open at start reports its bytes before the start from TCP's counters, as
the counters path does, and the chosen path's from then on.
`;

export const FAILURES = `.SH "FAILED ATTEMPTS AND HOW CONNECTIONS END"
An outgoing attempt that leaves SYN_SENT for CLOSE makes a \\fBconnect_failed\\fR record. Its
\\fBerror\\fR is the socket's error, which the kernel sets before it moves the socket to CLOSE,
so it is what connect() (or getsockopt(SO_ERROR) after a non\\-blocking connect) returns:
ECONNREFUSED (the peer answered with a reset), ETIMEDOUT (\\fBsyns_sent\\fR SYNs, then
net.ipv4.tcp_syn_retries gave up), EHOSTUNREACH or ENETUNREACH (an ICMP error from a router or
the host), or \\fBabandoned\\fR when the application closed the socket while it was still
connecting. An ICMP error that arrives while connect() itself still holds the socket is kept
for later: the next SYN's error ends the attempt, so such an attempt shows two SYNs. A connect()
that fails before it sends a SYN (no route in this host's table, no free local port) never
reaches TCP's state machine and makes no record.
.PP
Each \\fBclose\\fR record says how the connection ended in \\fBclose_reason\\fR, read at the
state change from the socket's error and the state it left: an error of ECONNRESET or EPIPE is
a reset received, ETIMEDOUT (or an ICMP error kept meanwhile) a timeout, ECONNABORTED an abort
by the kernel (ss \\-K); no error after FINs both ways is \\fBfin\\fR (\\fBfirst_fin\\fR: LAST_ACK
before CLOSE means the peer's FIN came first); no error and no FIN exchanged is \\fBaborted\\fR:
the application closed with SO_LINGER 0 or unread data, whose reset the kernel sends just after.
tcp:tcp_send_reset (Linux 4.15) marks the rarer resets the kernel sends with no error set (too
many orphaned sockets, memory pressure): \\fBreset_sent\\fR. The state change is
sock:inet_sock_set_state (Linux 4.16), which nettracer needs anyway.
.PP
Listeners: every metrics walk reads each listening socket's drop count (sk_drops: SYNs and
handshake\\-completing ACKs dropped because the SYN or accept queue was full; the \\fBd\\fR of
\\fBss \\-tlnm\\fR), its accept queue and limit, and the handshakes in progress; with
tcp:tcp_retransmit_synack (Linux 4.16) also the SYN\\-ACKs it sent again. The \\fBstats\\fR
record lists, under \\fBlisteners\\fR, those with something dropped, queued or in progress. An
incoming handshake that never completes (the peer reset it, or the SYN\\-ACKs went unanswered)
shows there as \\fBhalf_open\\fR and \\fBsynack_retransmits\\fR, not one by one: the kernel fires
no tracepoint when it drops a half\\-open request, and a hook on the drop (skb:kfree_skb) would
run for every packet freed on the host. A connection that completed its handshake and closed
before any process accepted it is an \\fBaccept\\fR record with pid 0 and counts in
\\fBunaccepted_closes\\fR.
.PP
The original NetTracer reports none of this: the \\fBlegacy\\fR and \\fBtable\\fR formats leave
failed attempts out, and \\fBlog\\fR writes them at level debug
("connect_failed \\fIlocal\\fR \\-> \\fIremote\\fR NS:\\fIinode\\fR PID:\\fIpid\\fR error:\\fIname\\fR syns:\\fIN\\fR").
\\fBsummarize\\fR counts, per window and group, \\fBconnects\\fR, \\fBconnects_failed\\fR,
\\fBconnect_failure_rate\\fR, \\fBresets_received\\fR and \\fBresets_sent\\fR.
`;

export const READING_A_CAPTURE = `.SH "READING A CAPTURE"
\\fBsummarize\\fR and \\fBvalidate\\fR read NDJSON line by line, from a file or standard input
(none or \\-). Every line must be a record valid against the schema its \\fBtype\\fR names
(schemas/v1; \\fBsummarize\\fR reads the records of a capture: ${RECORDS.filter((r) => r.stream)
  .map((r) => r.type)
  .join(', ')}). The schemas bound each number the kernel gives by the width it
has there (bytes and ids below 2^64; segments, RTTs, pids and namespace inodes below 2^32), so
no sum overflows. A line is at most ${MAX_LINE_BYTES / 1024 / 1024} MiB (${MAX_LINE_BYTES} bytes; a record is under 1 KiB): a longer one
is invalid, reported when it passes the bound and skipped to its newline without being kept, so
memory stays bounded and time linear in the input whatever it holds. An empty line, and text
that is not UTF\\-8 or not JSON, are invalid too. Messages name the line,
\\fIFILE\\fR:line \\fIN\\fR: (line \\fIN\\fR: for standard input), then what is wrong, quoting at most
40 characters of the input with control characters escaped.
.PP
\\fBsummarize\\fR also needs each connection record's timestamp to be a time it can place:
not a leap second (23:59:60, which RFC 3339 allows and \\fBvalidate\\fR passes), and, once its
offset is applied, from 0000\\-01\\-01T00:00:00Z to before 9999\\-12\\-31T23:59:59.999Z, the last
instant a summary can name; a window that would end after it ends there (\\fBwindow_s\\fR says how long
it was). At the first invalid line it stops with exit status 2, the windows closed before it
printed; with \\fB\\-\\-skip\\-invalid\\fR it skips such lines and counts them: in each summary
record's \\fBskipped_lines\\fR (the count so far: the last record's is the total) and, at the
end, on standard error with the first one's message. A total that goes down (a 32\\-bit counter
that wrapped) adds nothing to its window. A window in which no record fell is not printed (with
\\fB\\-\\-live\\fR the current window is, quiet or not, when it ends): two records 56 years apart
with \\fB\\-\\-window 1\\fR print two windows, not 1.7 billion.
.PP
\\fBvalidate\\fR checks every line and lists the invalid ones on standard output, the first ${ERRORS_LISTED}
and then how many more (\\fB\\-\\-json\\fR: one \\fBvalidation\\fR object,
schemas/v1/validation.schema.json), then a count; it exits 1 if one line is invalid.
`;

export const AT_THE_TERMINAL = `.SS "EVENT LINES"
One aligned line per connection event, for a person at a terminal, like tcplife: local time,
event (\\fBconnect\\fR, \\fBaccept\\fR, \\fBexisting\\fR, \\fBclose\\fR), PID, process, local end, the
direction (\\fB\\->\\fR outgoing, \\fB<\\-\\fR incoming) and the remote end; a close adds the payload
bytes sent and received, the segments retransmitted, the RTT in milliseconds and how long the
connection lived. A header line comes first. Metrics records are not events: they print
nothing. Loss prints a \\fBlost\\fR line with its counts.
.PP
.nf
.RS
TIME         EVENT        PID PROCESS         LOCAL                    REMOTE                    SENT B     RECV B  RETR   RTT ms   LIFETIME
11:35:17.384 connect      319 python3         127.0.0.1:51420       \\-> 127.0.0.1:36141
11:35:17.384 close        319 python3         127.0.0.1:51420       \\-> 127.0.0.1:36141             1234          0     0    0.028    0.13 ms
.RE
.fi
.SH "THE LIVE VIEW"
\\fBnettracer top\\fR draws on the terminal's alternate screen, and gives the screen back as it was
on every way out: \\fBq\\fR, Ctrl\\-C, SIGINT, SIGTERM, SIGHUP, an error. Every \\fB\\-\\-refresh\\fR seconds
(default 2; independent of \\fBtrace\\fR's \\fB\\-\\-interval\\fR) it walks the open connections for their
counters: a connection's rates are what its counters grew by since the previous walk, divided by
the time between the two. The header gives the host's totals over that time: open connections
(incoming and outgoing), closed ones still shown, bit/s received and sent, and the
retransmission percentage, retransmitted / (retransmitted + sent) segments \\(mu 100. Below, one
row per connection: PID, process, local and remote end, bit/s sent and received (TX/s, RX/s,
with SI prefixes), segments retransmitted, smoothed RTT in milliseconds and the bytes it moved
since nettracer first saw it (for a connection open before, since tracing started).
.PP
Redraws overwrite only the lines that changed; typed keys are read, not echoed. At any width from
80 columns no line wraps: columns narrow to their content, addresses are shortened at the front
(marked \\fB~\\fR: the port stays) and the least important columns go first. Rows that do not fit
are counted on the last line. A resize redraws at once.
.PP
Keys: \\fBs\\fR sorts by rate, bytes, retransmits, RTT in turn (largest first); \\fBg\\fR groups by
connection, process, container in turn (a group's RTT is the mean of its connections'); \\fBp\\fR or
space pauses the view on its last sample (sorting and grouping still apply to it), again resumes;
\\fBq\\fR or Ctrl\\-C quits with exit status 0. A closed connection stays 5 seconds, dimmed.
Each refresh costs the tracer CPU in proportion to the open connections (\\fBnpm run bench \\-\\- top\\fR
measures it); a longer \\fB\\-\\-refresh\\fR costs less.
`;
