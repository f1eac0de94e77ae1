// Opening files by path without following symbolic links, and checking a
// path the way OpenSSH's StrictModes does: shared by the files nettracer
// writes (output_file.cc) and the config reader (config_reader.cc).
#pragma once

#include <sys/types.h>

#include <string>

// open(2) of `path` refusing a symbolic link in any component: openat2 with
// RESOLVE_NO_SYMLINKS, or a walk with O_NOFOLLOW where seccomp hides openat2.
int OpenNoSymlinks(const std::string& path, int flags, mode_t mode);

// Why an errno of OpenNoSymlinks() failed, for a person.
std::string OpenError(int err);

// "" when every directory above `path` is owned by root or `owner` and
// writable by nobody else (a sticky directory, as /tmp, is fine: others
// cannot replace what they do not own in it); else what is wrong.
std::string UnsafeDirectories(const std::string& path, uid_t owner);
