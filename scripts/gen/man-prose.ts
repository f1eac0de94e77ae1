// The man page's prose: what no table or definition generates.
// scripts/gen/man.ts puts it between the generated sections.

export const FORMATS_AND_CONFIG = `.SH "OUTPUT FORMATS"
\\fB\\-\\-format\\fR chooses: \\fBndjson\\fR (default when standard output is not a terminal),
\\fBtable\\fR (default on a terminal), \\fBlog\\fR or \\fBlegacy\\fR. The last three are the
original NetTracer's, reproduced to the character where it had them.
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
2026\\-11\\-26 14:03:05.479 [3199] info [nettracer] event connect 127.0.0.1:51234 \\-> 127.0.0.1:80 NS:4026531840 PID:1234
2026\\-11\\-26 14:03:05.479 [3199] info [nettracer] event accept 127.0.0.1:80 <\\- 127.0.0.1:51234 NS:4026531840 PID:1234
2026\\-11\\-26 14:03:35.480 [3199] info [nettracer] 127.0.0.1:51234 \\-> 127.0.0.1:80 NS:4026531840 \\- stats: Bytes sent=1000 Bytes received=333
2026\\-11\\-26 14:03:35.480 [3199] info [nettracer] 127.0.0.1:51234 \\-> 127.0.0.1:80 NS:4026531840 \\- TCP stats: Retransmissions=0 Segs_in=8 Segs_out=10 RTT=45 RTT_var=22
2026\\-11\\-26 14:03:40.001 [3199] info [nettracer] event close 127.0.0.1:51234 \\-\\- 127.0.0.1:80 NS:4026531840 PID:1234
.RE
.fi
.PP
Events: \\fBconnect\\fR with \\fB\\->\\fR, \\fBaccept\\fR with \\fB<\\-\\fR (the local, listening side first),
\\fBclose\\fR with \\fB\\-\\-\\fR; a close is followed by the connection's final stats lines. Every interval,
each open connection gets a \\fBstats\\fR and a \\fBTCP stats\\fR line (totals; RTT and RTT_var in
microseconds; the arrow is its direction). Loss is logged at level \\fBwarning\\fR
("lost events records:N connections:M"), health at \\fBinfo\\fR ("[bpf_debug_counters] ...");
connections found open at start at \\fBdebug\\fR. \\fB\\-d\\fR sets the lowest level written.
.SS "LEGACY FORMAT"
At start and then every interval, one line per connection, then a line holding a single space.
A closed connection is printed once more, with the closed bit set, then drops out. Fields, all
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
start again from 0. (c) Established connections only: the start, and the time
until now or until the close.
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
The original's interactive view, drawn with cli\\-table3: local address, remote address (with
the direction), PID, process, bytes sent, bytes received, RTT; below it
"Number of passive tcp sessions: P, active: A, established: E". Redrawn at start, every interval,
and at once when Enter is pressed.
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
or the reader of the output went away (a closed pipe).
.TP
.B 1
Tracing failed while running, for example the output could not be written (disk full).
.TP
.B 2
Bad usage: an unknown flag or an invalid value. Nothing was loaded or written.
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
