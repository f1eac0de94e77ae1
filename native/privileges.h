// What the tracer keeps of root once its programs are attached and its
// outputs open: an identity of its own, no capability it can do without on
// this kernel (found by trying), an empty bounding set, no-new-privileges on
// every thread, and not dumpable.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

struct DropResult {
  std::string kept;   // "no capabilities", or the ones kept and why
  std::string error;  // non-empty: the drop failed
};

// Becomes uid/gid. `works` is tried with no capability in effect, then with
// CAP_BPF, then with CAP_BPF and CAP_PERFMON: the first set with which it
// returns true is kept (in the calling thread: the one that makes bpf()
// calls). As root it also becomes uid/gid (glibc applies that to every
// thread) and clears the bounding set; otherwise it keeps its ids.
DropResult DropTo(uid_t uid, gid_t gid, const std::function<bool()>& works);

// Whether CAP_BPF is in the calling thread's effective set.
bool HasEffectiveCapBpf();

// Why the kernel answered EPERM to loading our programs, and what to do:
// missing capabilities, or (with them) a seccomp filter or a security module.
std::string WhyBpfRefused();
