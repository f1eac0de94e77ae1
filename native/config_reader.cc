// nettracer-config-reader PATH OWNER_UID: the one part of nettracer that
// stays root while it traces with --config, so that the config file can be
// kept 0600 and still be re-read after the tracer has dropped its
// privileges. It can do one thing: on each line read from standard input,
// read PATH (no symbolic link in its path; a regular file owned by root or
// OWNER_UID and writable by nobody else; every directory above it the same,
// as OpenSSH's StrictModes; at most kMaxBytes) and answer on standard output
// "ok <length>\n" and the bytes, or "error <why>\n". It dies with the tracer.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "safe_open.h"

namespace {

constexpr size_t kMaxBytes = 64 * 1024;

bool WriteAll(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

std::string Read(const std::string& path, uid_t owner) {
  std::string dirs = UnsafeDirectories(path, owner);
  if (!dirs.empty()) return "error " + dirs + "\n";
  int fd = OpenNoSymlinks(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0) return "error " + OpenError(errno) + "\n";
  struct stat st;
  std::string why;
  if (fstat(fd, &st) != 0) {
    why = strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = "it is not a regular file";
  } else if (st.st_uid != 0 && st.st_uid != owner) {
    why = "it belongs to uid " + std::to_string(st.st_uid) + ", neither root nor the user who started nettracer";
  } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    why = "others can write it: it could make root trace as they wish (chmod go-w)";
  } else if (static_cast<size_t>(st.st_size) > kMaxBytes) {
    why = "it is larger than " + std::to_string(kMaxBytes / 1024) + " KiB";
  }
  std::string body;
  char buf[8192];
  while (why.empty()) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) why = strerror(errno);
    if (n <= 0) break;
    body.append(buf, static_cast<size_t>(n));
    if (body.size() > kMaxBytes) why = "it is larger than " + std::to_string(kMaxBytes / 1024) + " KiB";
  }
  close(fd);
  if (!why.empty()) return "error " + why + "\n";
  return "ok " + std::to_string(body.size()) + "\n" + body;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: nettracer-config-reader PATH OWNER_UID\n");
    return 2;
  }
  // Gone with the tracer, whatever kills it.
  const pid_t parent = getppid();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) return 0;
  prctl(PR_SET_DUMPABLE, 0);
  const std::string path = argv[1];
  const uid_t owner = static_cast<uid_t>(strtoul(argv[2], nullptr, 10));
  char c;
  while (true) {
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (c == '\n' && !WriteAll(Read(path, owner))) return 0;
  }
}
