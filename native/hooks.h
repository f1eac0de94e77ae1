// The kernel hooks nettracer uses: one row per BPF program of
// bpf/nettracer.bpf.c. The loader (attach), probe(), `nettracer check`, the
// bench and the man page all read this table; the loader refuses an object
// whose programs differ from it.
#pragma once

#include <cstddef>

// kProgram: never attached, run by the tracer itself (BPF_PROG_TEST_RUN).
enum class HookKind { kTracepoint, kIterator, kProgram };

struct HookSpec {
  const char* program;      // the BPF program's name (its function in bpf/nettracer.bpf.c)
  const char* section;      // libbpf section: tp_btf/<tracepoint> or iter/<target>
  const char* kernel_name;  // what the kernel calls it: sock:inet_sock_set_state
  const char* btf_name;     // in the kernel's BTF when it has the hook (a program: a helper it needs)
  HookKind kind;
  bool required;        // no tracing without it
  const char* group;    // optional hooks used only together (all or none), or nullptr
  const char* since;    // first Linux release with it
  const char* commit;   // the kernel commit that added it (12 hex digits)
  const char* role;     // what nettracer does with it
  const char* without;  // what changes on a kernel without it
  // A faster stand-in for another row's program (its name), loaded instead of
  // it where the kernel has this row's btf_name too; nullptr for most rows.
  const char* instead_of = nullptr;
};

extern const HookSpec kHooks[];
extern const size_t kHookCount;

// The row of a program, or nullptr.
const HookSpec* FindHook(const char* program);

// The connection table's maps (bpf/nettracer.bpf.c), for the bench's counts.
extern const char* const kConnectionMaps[];
extern const size_t kConnectionMapCount;
