#include "output_file.h"

#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

namespace {

Napi::Error Fail(Napi::Env env, const std::string& path, const std::string& why) {
  Napi::Error e = Napi::Error::New(env, "cannot write " + path + ": " + why);
  e.Set("code", Napi::String::New(env, "EOUTPUT"));
  return e;
}

}  // namespace

Napi::Value OpenOutput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "openOutput(path, { append, ownerUid })");
  }
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Object opts = info[1].As<Napi::Object>();
  const bool append = opts.Get("append").ToBoolean().Value();
  const uid_t owner = opts.Get("ownerUid").ToNumber().Uint32Value();
  const int base = O_WRONLY | O_CLOEXEC | O_NOCTTY;

  // A new file: created here, by nobody else, readable by nobody else.
  int fd = OpenNoSymlinks(path, base | O_CREAT | O_EXCL, 0600);
  if (fd >= 0) return Napi::Number::New(env, fd);
  if (errno != EEXIST) throw Fail(env, path, OpenError(errno));

  // An existing one: opened without blocking (a FIFO would wait for a
  // reader), then judged by what the descriptor is, so nothing can be
  // swapped in between.
  fd = OpenNoSymlinks(path, base | O_NONBLOCK, 0);
  if (fd < 0) throw Fail(env, path, OpenError(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    throw Fail(env, path, strerror(e));
  }
  std::string refused;
  const bool null_device = S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
  if (null_device) {
    // Nothing to protect and nothing that blocks.
  } else if (!S_ISREG(st.st_mode)) {
    refused = "it is not a regular file (a FIFO, a device or a socket): write to a regular file, or to standard output";
  } else if (st.st_nlink != 1) {
    refused = "it has other hard links, which it would write through";
  } else if (st.st_uid != 0 && st.st_uid != owner) {
    refused = "it belongs to uid " + std::to_string(st.st_uid) + ", neither root nor you";
  }
  if (!refused.empty()) {
    close(fd);
    throw Fail(env, path, refused);
  }
  if (!null_device) {
    int fl = fcntl(fd, F_GETFL);
    int set = (fl & ~O_NONBLOCK) | (append ? O_APPEND : 0);
    if (fl < 0 || fcntl(fd, F_SETFL, set) != 0 || fchmod(fd, 0600) != 0 || (!append && ftruncate(fd, 0) != 0)) {
      int e = errno;
      close(fd);
      throw Fail(env, path, strerror(e));
    }
  }
  return Napi::Number::New(env, fd);
}
