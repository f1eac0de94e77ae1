// What the running kernel offers nettracer, read from its BTF: for each row of
// the hook table (hooks.h), whether the kernel has that hook.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "hooks.h"

// NETTRACER_WALK_READS: how the table walk reads sockets. auto (or unset):
// direct loads where the kernel has bpf_rdonly_cast, probe reads elsewhere;
// direct: direct loads or refuse to start; probe: probe reads (what older
// kernels run, kept testable here).
enum class WalkReads { kAuto, kDirect, kProbe, kInvalid };

struct KernelOffer {
  bool btf = false;                         // the kernel's BTF is readable
  std::string btf_error;                    // why not
  std::vector<bool> hooks;                  // by kHooks index
  WalkReads walk_reads = WalkReads::kAuto;  // asked for

  bool Has(const HookSpec& h) const { return hooks[&h - kHooks]; }
  // Every hook of h's group is offered (a hook without a group: itself).
  bool GroupComplete(const HookSpec& h) const;
  // plan (by kHooks index: the hooks to load) with each stand-in (instead_of)
  // in place of its base where both are planned and walk_reads allows.
  void PlaceStandIns(std::vector<bool>* plan) const;
};

// The row a stand-in replaces (its instead_of), by kHooks index.
size_t BaseOf(const HookSpec& stand_in);

KernelOffer ProbeKernel();

// probe(): the same for JavaScript, every hook with its row of the table.
Napi::Value Probe(const Napi::CallbackInfo& info);

// hookTable(): the table itself (no kernel access).
Napi::Value HookTable(const Napi::CallbackInfo& info);
