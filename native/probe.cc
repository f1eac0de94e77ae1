#include "probe.h"

#include <bpf/btf.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

namespace {

// A tracepoint exists when BTF has its btf_trace_<name> typedef.
bool HasTracepoint(const struct btf* vmlinux, const char* name) {
  std::string type = std::string("btf_trace_") + name;
  return btf__find_by_name_kind(vmlinux, type.c_str(), BTF_KIND_TYPEDEF) > 0;
}

}  // namespace

KernelOffer ProbeKernel() {
  KernelOffer k;
  // NETTRACER_SYSFS_BTF: where the kernel's BTF is looked for (tests point it
  // at a missing file to see how a kernel without BTF is reported).
  const char* env = getenv("NETTRACER_SYSFS_BTF");
  std::string path = env && *env ? env : "/sys/kernel/btf/vmlinux";
  if (access(path.c_str(), R_OK) != 0) {
    k.btf_error = path + " is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF";
    return k;
  }
  struct btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) {
    k.btf_error = std::string("cannot read the kernel's BTF: ") + strerror(errno);
    return k;
  }
  k.btf = true;
  k.set_state = HasTracepoint(vmlinux, "inet_sock_set_state");
  k.send_length = HasTracepoint(vmlinux, "sock_send_length");
  k.recv_length = HasTracepoint(vmlinux, "sock_recv_length");
  k.destroy_sock = HasTracepoint(vmlinux, "tcp_destroy_sock");
  k.iter_task_file = btf__find_by_name_kind(vmlinux, "bpf_iter__task_file", BTF_KIND_STRUCT) > 0;
  btf__free(vmlinux);
  return k;
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KernelOffer k = ProbeKernel();
  Napi::Object o = Napi::Object::New(env);
  o.Set("btf", k.btf);
  if (!k.btf) o.Set("btfError", k.btf_error);
  Napi::Object tp = Napi::Object::New(env);
  tp.Set("sock:inet_sock_set_state", k.set_state);
  tp.Set("sock:sock_send_length", k.send_length);
  tp.Set("sock:sock_recv_length", k.recv_length);
  tp.Set("tcp:tcp_destroy_sock", k.destroy_sock);
  o.Set("tracepoints", tp);
  o.Set("iterTaskFile", k.iter_task_file);
  return o;
}
