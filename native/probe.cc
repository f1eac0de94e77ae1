#include "probe.h"

#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_error.h"

bool KernelOffer::GroupComplete(const HookSpec& h) const {
  if (!h.group) return Has(h);
  for (size_t i = 0; i < kHookCount; i++) {
    if (kHooks[i].group && strcmp(kHooks[i].group, h.group) == 0 && !hooks[i]) return false;
  }
  return true;
}

KernelOffer ProbeKernel() {
  KernelOffer k;
  k.hooks.assign(kHookCount, false);
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
    k.btf_error = "cannot read the kernel's BTF: " + BpfError(errno);
    return k;
  }
  k.btf = true;
  for (size_t i = 0; i < kHookCount; i++) {
    // A tracepoint has a btf_trace_<name> typedef; an iterator target, its
    // context struct; a program run on demand, the helper it needs newest.
    const HookKind hk = kHooks[i].kind;
    int kind = hk == HookKind::kTracepoint ? BTF_KIND_TYPEDEF
               : hk == HookKind::kIterator ? BTF_KIND_STRUCT
                                           : BTF_KIND_FUNC;
    k.hooks[i] = btf__find_by_name_kind(vmlinux, kHooks[i].btf_name, kind) > 0;
  }
  btf__free(vmlinux);
  return k;
}

namespace {

Napi::Object HookObject(Napi::Env env, const HookSpec& h) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("program", h.program);
  o.Set("section", h.section);
  o.Set("kernelName", h.kernel_name);
  o.Set("kind", h.kind == HookKind::kTracepoint ? "tracepoint"
                : h.kind == HookKind::kIterator ? "iterator"
                                                : "program");
  o.Set("required", h.required);
  if (h.group) o.Set("group", h.group);
  o.Set("since", h.since);
  o.Set("commit", h.commit);
  o.Set("role", h.role);
  o.Set("without", h.without);
  return o;
}

}  // namespace

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KernelOffer k = ProbeKernel();
  Napi::Object o = Napi::Object::New(env);
  o.Set("btf", k.btf);
  if (!k.btf) o.Set("btfError", k.btf_error);
  Napi::Array hooks = Napi::Array::New(env, kHookCount);
  for (size_t i = 0; i < kHookCount; i++) {
    Napi::Object h = HookObject(env, kHooks[i]);
    h.Set("available", k.btf && k.hooks[i]);
    // Whether nettracer would attach it here: offered, with its whole group.
    h.Set("used", k.btf && k.GroupComplete(kHooks[i]));
    hooks.Set(i, h);
  }
  o.Set("hooks", hooks);
  return o;
}

Napi::Value HookTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Array hooks = Napi::Array::New(env, kHookCount);
  for (size_t i = 0; i < kHookCount; i++) hooks.Set(i, HookObject(env, kHooks[i]));
  o.Set("hooks", hooks);
  Napi::Array maps = Napi::Array::New(env, kConnectionMapCount);
  for (size_t i = 0; i < kConnectionMapCount; i++) maps.Set(i, kConnectionMaps[i]);
  o.Set("connectionMaps", maps);
  return o;
}
