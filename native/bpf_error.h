// An error of libbpf, or of a bpf() call made through it, in words. libbpf
// reports errnos and codes of its own (4000 and up, enum libbpf_errno:
// "invalid ELF format" and the like), which strerror() knows nothing of
// ("Unknown error 4001"): libbpf_strerror() knows both.
#pragma once

#include <bpf/libbpf.h>
#include <stdio.h>

#include <string>

// `err` as libbpf returns it (negative) or as errno holds it.
inline std::string BpfError(int err) {
  if (err < 0) err = -err;
  char text[256];
  if (libbpf_strerror(err, text, sizeof(text)) != 0) snprintf(text, sizeof(text), "error %d", err);
  const bool own = err >= __LIBBPF_ERRNO__START && err < __LIBBPF_ERRNO__END;
  return std::string(text) + (own ? " (libbpf error " : " (errno ") + std::to_string(err) + ")";
}
