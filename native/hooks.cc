#include "hooks.h"

#include <cstring>

const HookSpec kHooks[] = {
    {"set_state", "tp_btf/inet_sock_set_state", "sock:inet_sock_set_state", "btf_trace_inet_sock_set_state",
     HookKind::kTracepoint, true, nullptr, "4.16", "563e0bb0dc74",
     "connection life cycle: connect, established, close; the owner of an incoming connection when it closes it",
     "no connection life cycle: nettracer cannot trace"},
    {"destroy_sock", "tp_btf/tcp_destroy_sock", "tcp:tcp_destroy_sock", "btf_trace_tcp_destroy_sock",
     HookKind::kTracepoint, false, nullptr, "4.15", "e1a4aa50f473",
     "safety net: nothing stays in the connection table after a socket is freed",
     "a socket freed without passing through CLOSE keeps its table entry until the table is full"},
    {"send_length", "tp_btf/sock_send_length", "sock:sock_send_length", "btf_trace_sock_send_length",
     HookKind::kTracepoint, false, "io", "6.3", "6e6eda44b939",
     "bytes the application wrote (one run per send call); the owner of an incoming connection at its first send",
     "bytes come from TCP's counters (acknowledged and received bytes) instead of the application's calls, and an "
     "accepted connection gets its owner when it closes or at the next metrics walk rather than at its first send"},
    {"recv_length", "tp_btf/sock_recv_length", "sock:sock_recv_length", "btf_trace_sock_recv_length",
     HookKind::kTracepoint, false, "io", "6.3", "6e6eda44b939",
     "bytes the application read (one run per receive call, MSG_PEEK excluded)",
     "bytes come from TCP's counters instead of the application's calls"},
    {"send_reset", "tp_btf/tcp_send_reset", "tcp:tcp_send_reset", "btf_trace_tcp_send_reset", HookKind::kTracepoint,
     false, nullptr, "4.15", "c24b14c46bb8",
     "close_reason reset_sent where no error says why (too many orphaned sockets, out of memory): one run per "
     "reset sent, also for segments no socket wanted",
     "such a connection has close_reason fin or aborted"},
    {"retransmit_synack", "tp_btf/tcp_retransmit_synack", "tcp:tcp_retransmit_synack",
     "btf_trace_tcp_retransmit_synack", HookKind::kTracepoint, false, nullptr, "4.16", "-",
     "SYN-ACKs sent again per listener (stats listeners): handshakes whose last ACK is late or never comes",
     "listeners show no synack_retransmits"},
    {"metrics", "iter/task_file", "iter/task_file", "bpf_iter__task_file", HookKind::kIterator, true, nullptr, "5.8",
     "eaaacd23910f",
     "metrics walks over every process's open files: counters of tracked connections, connections open before "
     "tracing started, owners of connections no process has touched yet",
     "no metrics and no connections found at start: nettracer cannot trace"},
    {"walk", "raw_tp", "bpf_loop (a program run on demand)", "bpf_loop", HookKind::kProgram, false, "walk", "5.17",
     "e6f2dd0f8067",
     "metrics walks over the connection table only, whatever else the host has open; the file walk then runs only "
     "to find the owner of a connection no process has touched yet",
     "every metrics walk goes over every process's open files: its cost grows with all the files open on the host"},
    {"walk_direct", "raw_tp", "bpf_rdonly_cast (direct reads)", "bpf_rdonly_cast", HookKind::kProgram, false, nullptr,
     "6.2", "a35b9af4ec2c",
     "the table walk reading each socket with direct loads rather than a probe read per field (about half its time "
     "per connection); NETTRACER_WALK_READS=probe keeps the probe reads",
     "the table walk reads sockets with probe reads: the same records, about twice its time per connection", "walk"},
};

const size_t kHookCount = sizeof(kHooks) / sizeof(kHooks[0]);

const HookSpec* FindHook(const char* program) {
  for (size_t i = 0; i < kHookCount; i++) {
    if (strcmp(kHooks[i].program, program) == 0) return &kHooks[i];
  }
  return nullptr;
}

const char* const kConnectionMaps[] = {"fast_keys", "fast_conns", "conns"};
const size_t kConnectionMapCount = sizeof(kConnectionMaps) / sizeof(kConnectionMaps[0]);
