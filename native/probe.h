// What the running kernel offers nettracer, read from its BTF.
#pragma once

#include <napi.h>

#include <string>

struct KernelOffer {
  bool btf = false;           // /sys/kernel/btf/vmlinux readable
  std::string btf_error;      // why not
  bool set_state = false;     // sock:inet_sock_set_state
  bool send_length = false;   // sock:sock_send_length
  bool recv_length = false;   // sock:sock_recv_length
  bool destroy_sock = false;  // tcp:tcp_destroy_sock
  bool iter_task_file = false;  // BPF iterator over open files
};

KernelOffer ProbeKernel();

// probe(): the same, for `nettracer check`.
Napi::Value Probe(const Napi::CallbackInfo& info);
