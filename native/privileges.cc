#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <vector>

namespace {

struct Caps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

bool GetCaps(Caps* c) {
  __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  if (syscall(SYS_capget, &h, d) != 0) return false;
  c->effective = d[0].effective | uint64_t{d[1].effective} << 32;
  c->permitted = d[0].permitted | uint64_t{d[1].permitted} << 32;
  c->inheritable = d[0].inheritable | uint64_t{d[1].inheritable} << 32;
  return true;
}

// For the calling thread only (capset is per thread).
bool SetCaps(uint64_t permitted, uint64_t effective) {
  __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct d[2] = {};
  d[0].permitted = static_cast<uint32_t>(permitted);
  d[1].permitted = static_cast<uint32_t>(permitted >> 32);
  d[0].effective = static_cast<uint32_t>(effective);
  d[1].effective = static_cast<uint32_t>(effective >> 32);
  return syscall(SYS_capset, &h, d) == 0;
}

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

int LastCap() {
  FILE* f = fopen("/proc/sys/kernel/cap_last_cap", "r");
  int last = CAP_LAST_CAP;
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = CAP_LAST_CAP;
    fclose(f);
  }
  return last;
}

// no_new_privs is per thread: setting it here, then installing an
// allow-everything seccomp filter with TSYNC, carries it to every thread
// of the process (seccomp gives each thread the caller's no_new_privs).
std::string NoNewPrivsEverywhere() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return std::string("no_new_privs: ") + strerror(errno);
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
    return std::string("no_new_privs on every thread (seccomp TSYNC): ") + strerror(errno);
  }
  return "";
}

}  // namespace

bool HasEffectiveCapBpf() {
  Caps c;
  return GetCaps(&c) && (c.effective & Bit(CAP_BPF));
}

std::string WhyBpfRefused() {
  Caps c;
  bool admin = GetCaps(&c) && (c.effective & Bit(CAP_SYS_ADMIN));
  bool bpf = (c.effective & Bit(CAP_BPF)) && (c.effective & Bit(CAP_PERFMON));
  if (!admin && !bpf) {
    return "not allowed to load BPF programs: run as root (sudo), or with the capabilities CAP_BPF and CAP_PERFMON";
  }
  const std::string has = admin ? "CAP_SYS_ADMIN" : "CAP_BPF and CAP_PERFMON";
  // A container's seccomp profile may give bpf() only to CAP_SYS_ADMIN
  // (CRI-O's and Podman's defaults); containerd's gives it to CAP_BPF.
  if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2) {
    return "the kernel refused bpf() although this process has " + has +
           ": a seccomp filter blocks it. In a container, use a seccomp profile that allows bpf and "
           "perf_event_open (containerd's RuntimeDefault does with CAP_BPF and CAP_PERFMON; CRI-O's and "
           "Podman's default only with CAP_SYS_ADMIN; docs/FLEET.md)";
  }
  return "the kernel refused bpf() although this process has " + has +
         ": a security module (SELinux, AppArmor, the kernel's lockdown) denies it";
}

DropResult DropTo(uid_t uid, gid_t gid, const std::function<bool()>& works) {
  DropResult r;
  auto fail = [&r](const char* what) {
    r.error = std::string(what) + ": " + strerror(errno);
    return r;
  };
  // Started with capabilities but not as root: keep the ids, still shed
  // every capability it can do without.
  const bool root = geteuid() == 0;
  if (root) {
    // Keep the permitted set across the uid change in this thread, to try
    // which capabilities the tracer still needs; every other thread loses all.
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return fail("keep capabilities");
    const int last = LastCap();
    for (int cap = 0; cap <= last; cap++) {
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return fail("clear the bounding set");
    }
    if (setgroups(0, nullptr) != 0) return fail("setgroups");
    if (setresgid(gid, gid, gid) != 0) return fail("setresgid");
    if (setresuid(uid, uid, uid) != 0) return fail("setresuid");
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }

  const std::vector<std::pair<uint64_t, const char*>> ladder = {
      {0, "no capabilities"},
      {Bit(CAP_BPF), "CAP_BPF: bpf() on its own programs and maps fails without it on this kernel"},
      {Bit(CAP_BPF) | Bit(CAP_PERFMON),
       "CAP_BPF and CAP_PERFMON: bpf() on its own programs and maps fails without them on this kernel"},
  };
  Caps now;
  if (!GetCaps(&now)) return fail("capget");
  bool ok = false;
  for (const auto& [set, why] : ladder) {
    if ((set & now.permitted) != set) continue;  // not ours to keep (started with fewer)
    if (!SetCaps(now.permitted, set)) return fail("capset");
    if (works()) {
      if (!SetCaps(set, set)) return fail("capset");
      r.kept = why;
      ok = true;
      break;
    }
  }
  if (!ok && !root) {
    // Without root it was started with what it needs: keep that.
    if (!SetCaps(now.permitted, now.effective)) return fail("capset");
    r.kept = "unchanged (not root, and bpf() needs its capabilities)";
    ok = true;
  }
  if (!ok) {
    SetCaps(0, 0);
    r.error = "bpf() on the tracer's own objects fails even with CAP_BPF and CAP_PERFMON once root is dropped";
    return r;
  }
  std::string nnp = NoNewPrivsEverywhere();
  if (!nnp.empty()) {
    r.error = nnp;
    return r;
  }
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return fail("not dumpable");
  return r;
}
