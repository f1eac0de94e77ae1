// What the running kernel offers nettracer, read from its BTF: for each row of
// the hook table (hooks.h), whether the kernel has that hook.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "hooks.h"

struct KernelOffer {
  bool btf = false;         // the kernel's BTF is readable
  std::string btf_error;    // why not
  std::vector<bool> hooks;  // by kHooks index

  bool Has(const HookSpec& h) const { return hooks[&h - kHooks]; }
  // Every hook of h's group is offered (a hook without a group: itself).
  bool GroupComplete(const HookSpec& h) const;
};

KernelOffer ProbeKernel();

// probe(): the same for JavaScript, every hook with its row of the table.
Napi::Value Probe(const Napi::CallbackInfo& info);

// hookTable(): the table itself (no kernel access).
Napi::Value HookTable(const Napi::CallbackInfo& info);
