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

size_t BaseOf(const HookSpec& stand_in) { return FindHook(stand_in.instead_of) - kHooks; }

void KernelOffer::PlaceStandIns(std::vector<bool>* plan) const {
  for (size_t i = 0; i < kHookCount; i++) {
    if (!kHooks[i].instead_of) continue;
    const size_t base = BaseOf(kHooks[i]);
    (*plan)[i] = (*plan)[i] && (*plan)[base] && walk_reads != WalkReads::kProbe;
    if ((*plan)[i]) (*plan)[base] = false;
  }
}

namespace {

WalkReads WalkReadsAsked() {
  const char* v = getenv("NETTRACER_WALK_READS");
  if (!v || !*v || strcmp(v, "auto") == 0) return WalkReads::kAuto;
  if (strcmp(v, "direct") == 0) return WalkReads::kDirect;
  if (strcmp(v, "probe") == 0) return WalkReads::kProbe;
  return WalkReads::kInvalid;
}

}  // namespace

KernelOffer ProbeKernel() {
  KernelOffer k;
  k.hooks.assign(kHookCount, false);
  k.walk_reads = WalkReadsAsked();
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
  if (h.instead_of) o.Set("insteadOf", h.instead_of);
  return o;
}

}  // namespace

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KernelOffer k = ProbeKernel();
  Napi::Object o = Napi::Object::New(env);
  o.Set("btf", k.btf);
  if (!k.btf) o.Set("btfError", k.btf_error);
  // Whether nettracer would load each here: offered, with its whole group,
  // a stand-in in place of its base.
  std::vector<bool> used(kHookCount, false);
  for (size_t i = 0; i < kHookCount; i++) used[i] = k.btf && k.GroupComplete(kHooks[i]);
  k.PlaceStandIns(&used);
  Napi::Array hooks = Napi::Array::New(env, kHookCount);
  for (size_t i = 0; i < kHookCount; i++) {
    Napi::Object h = HookObject(env, kHooks[i]);
    h.Set("available", k.btf && k.hooks[i]);
    h.Set("used", static_cast<bool>(used[i]));
    hooks.Set(i, h);
  }
  o.Set("hooks", hooks);
  static const char* const kAsked[] = {"auto", "direct", "probe", "invalid"};
  o.Set("walkReadsAsked", kAsked[static_cast<int>(k.walk_reads)]);
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
