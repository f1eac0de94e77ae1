#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int OpenNoSymlinks(const std::string& path, int flags, mode_t mode) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how));
  if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);

  int dir = open(path[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  size_t at = 0;
  while (true) {
    while (at < path.size() && path[at] == '/') at++;
    size_t end = path.find('/', at);
    std::string part = path.substr(at, end == std::string::npos ? std::string::npos : end - at);
    bool last = end == std::string::npos || path.find_first_not_of('/', end) == std::string::npos;
    int next = last ? openat(dir, part.c_str(), flags | O_NOFOLLOW, mode)
                    : openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int saved = errno;
    close(dir);
    errno = saved;
    if (next < 0 || last) return next;
    dir = next;
    at = end;
  }
}

std::string OpenError(int err) {
  switch (err) {
    case ELOOP:
      return "a symbolic link is in its path (nettracer runs as root and follows none)";
    case ENOTDIR:
      return "a part of its path is not a directory (or is a symbolic link)";
    case ENXIO:
      return "it is a FIFO nobody reads";
    default:
      return strerror(err);
  }
}

std::string UnsafeDirectories(const std::string& path, uid_t owner) {
  if (path.empty() || path[0] != '/') return "its path is not absolute";
  std::string dir = "/";
  size_t at = 1;
  while (true) {
    struct stat st;
    if (lstat(dir.c_str(), &st) != 0) return dir + ": " + strerror(errno);
    if (!S_ISDIR(st.st_mode)) return dir + " is not a directory";
    if (st.st_uid != 0 && st.st_uid != owner) return dir + " belongs to uid " + std::to_string(st.st_uid);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
      char mode[8];
      snprintf(mode, sizeof(mode), "%04o", st.st_mode & 07777);
      return dir + " can be written by others (mode " + mode + ")";
    }
    size_t end = path.find('/', at);
    if (end == std::string::npos) return "";
    dir = path.substr(0, end);
    at = end + 1;
  }
}
