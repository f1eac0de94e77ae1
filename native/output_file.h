// Opening the files nettracer writes (--output, --log-file) as root on a
// host others share: no symbolic link anywhere in the path, new files
// created exclusively with mode 0600, an existing file used only if it is a
// regular file with one link owned by root or the invoking user (then made
// 0600), and never a FIFO or device but the null device.
#pragma once

#include <napi.h>

// openOutput(path, { append, ownerUid }) -> fd, or throws an Error whose
// code is EOUTPUT and whose message says why, in one line.
Napi::Value OpenOutput(const Napi::CallbackInfo& info);
