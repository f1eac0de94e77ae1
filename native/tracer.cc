// Loads bpf/nettracer.bpf.c (embedded as a skeleton), attaches the hooks of
// the hook table (hooks.h) that this kernel offers, and moves records to
// JavaScript: the ring buffer's epoll fd is watched on Node's own loop (no
// extra thread); a wake-up, or a short timer for records below the wake-up
// mark, drains the ring in chunks of up to kChunkRecords, one JS call each.
#include "tracer.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "bpf_error.h"
#include "hooks.h"
#include "privileges.h"
#include "probe.h"
#include "safe_open.h"

extern "C" {
#include "nettracer.h"
}
#include "nettracer.skel.h"

static_assert(sizeof(struct nt_record) == NT_RECORD_SIZE, "nt_record layout");

namespace {

bool g_verbose = false;

constexpr uint64_t kMaxObjectBytes = 16u << 20;  // -p: the built-in object is ~200 KB

int PrintLibbpf(enum libbpf_print_level level, const char* fmt, va_list args) {
  // Failures surface through our own messages; --verbose adds libbpf's
  // warnings and notes (its debug level is for developers: NETTRACER_DEBUG=1).
  static const bool debug = getenv("NETTRACER_DEBUG") != nullptr;
  if (!g_verbose && !debug) return 0;
  if (level == LIBBPF_DEBUG && !debug) return 0;
  return vfprintf(stderr, fmt, args);
}

Napi::Error Fail(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

std::string Errno(int err) { return BpfError(err); }

uint32_t U32(const Napi::Object& o, const char* key, uint32_t dflt) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : dflt;
}

bool Bool(const Napi::Object& o, const char* key, bool dflt) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : dflt;
}

// Filters from the JS options (withLoopback, pid, port, family, netns, comm,
// addr: {family, prefix, bytes}). Written before load, and again while
// tracing into the mapped .data (setFilters).
void WriteFilters(volatile nt_filters* f, const Napi::Object& opts) {
  nt_filters n = {};
  n.loopback = !Bool(opts, "withLoopback", false);
  // pid and port: arrays of at most NT_FILTER_VALUES (the flags' parsers check it); more are ignored.
  Napi::Value pids = opts.Get("pid");
  if (pids.IsArray()) {
    Napi::Array a = pids.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length() && n.npids < NT_FILTER_VALUES; i++) {
      n.pids[n.npids++] = a.Get(i).As<Napi::Number>().Uint32Value();
    }
  }
  Napi::Value ports = opts.Get("port");
  if (ports.IsArray()) {
    Napi::Array a = ports.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length() && n.nports < NT_FILTER_VALUES; i++) {
      n.ports[n.nports++] = static_cast<uint16_t>(a.Get(i).As<Napi::Number>().Uint32Value());
    }
  }
  n.family = static_cast<uint8_t>(U32(opts, "family", 0));
  n.netns = U32(opts, "netns", 0);
  Napi::Value comm = opts.Get("comm");
  if (comm.IsString()) {
    std::string c = comm.As<Napi::String>().Utf8Value();
    n.comm_on = 1;
    strncpy(n.comm, c.c_str(), NT_COMM_LEN - 1);
  }
  n.addr_family = 4;
  Napi::Value addr = opts.Get("addr");
  if (addr.IsObject()) {
    Napi::Object a = addr.As<Napi::Object>();
    Napi::Array bytes = a.Get("bytes").As<Napi::Array>();
    n.addr_on = 1;
    n.addr_family = static_cast<uint8_t>(U32(a, "family", 4));
    n.addr_prefix = static_cast<uint8_t>(U32(a, "prefix", 0));
    for (uint32_t i = 0; i < NT_ADDR_LEN && i < bytes.Length(); i++) {
      n.addr[i] = static_cast<uint8_t>(bytes.Get(i).As<Napi::Number>().Uint32Value());
    }
  }
  memcpy(const_cast<nt_filters*>(f), &n, sizeof(n));
}

// The hook table and the object's programs name the same programs, in the
// same sections: anything else is an object this loader cannot drive.
std::string ObjectMismatch(bpf_object* obj) {
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    const HookSpec* h = FindHook(bpf_program__name(prog));
    if (!h) return std::string("its program ") + bpf_program__name(prog) + " is not in the hook table";
    if (strcmp(bpf_program__section_name(prog), h->section) != 0) {
      return std::string("its program ") + h->program + " is in section " + bpf_program__section_name(prog) + ", not " +
             h->section;
    }
  }
  for (size_t i = 0; i < kHookCount; i++) {
    if (!bpf_object__find_program_by_name(obj, kHooks[i].program)) {
      return std::string("it has no program ") + kHooks[i].program;
    }
  }
  return "";
}

std::vector<std::string> Strings(const Napi::Object& o, const char* key) {
  std::vector<std::string> out;
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return out;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(a.Get(i).ToString().Utf8Value());
  return out;
}

bool InGroups(const HookSpec& h, const std::vector<std::string>& groups) {
  if (!h.group) return false;
  for (const std::string& g : groups)
    if (g == h.group) return true;
  return false;
}

// The hooks to attach, by kHooks index: those the kernel offers with their
// whole group, but for the groups the options exclude (excludeGroups); a
// group they require (requireGroups) must be there. Throws what is missing.
std::vector<bool> PlanHooks(Napi::Env env, const KernelOffer& k, const Napi::Object& opts) {
  if (!k.btf) throw Fail(env, "ENOBTF", "this kernel exposes no BTF (" + k.btf_error + "); nettracer needs it");
  const std::vector<std::string> exclude = Strings(opts, "excludeGroups");
  const std::vector<std::string> require = Strings(opts, "requireGroups");
  std::vector<bool> plan(kHookCount, false);
  for (size_t i = 0; i < kHookCount; i++) {
    const HookSpec& h = kHooks[i];
    if ((h.required || InGroups(h, require)) && !k.Has(h)) {
      throw Fail(env, "ENOHOOK",
                 std::string("this kernel has no ") + h.kernel_name + " (Linux " + h.since + " or later is needed)");
    }
    plan[i] = k.GroupComplete(h) && !InGroups(h, exclude);
  }
  if (k.walk_reads == WalkReads::kInvalid) {
    throw Fail(env, "EENV", "NETTRACER_WALK_READS must be auto, direct or probe: unset it, or set one of these");
  }
  k.PlaceStandIns(&plan);
  for (size_t i = 0; i < kHookCount; i++) {
    const HookSpec& h = kHooks[i];
    if (!h.instead_of || k.walk_reads != WalkReads::kDirect || plan[i]) continue;
    const HookSpec& base = kHooks[BaseOf(h)];
    const HookSpec& missing = k.Has(h) ? base : h;  // the stand-in, or the base it needs
    throw Fail(env, "ENOHOOK",
               std::string("NETTRACER_WALK_READS=direct, but this kernel has no ") + missing.kernel_name + " (Linux " +
                   missing.since + " or later is needed)");
  }
  return plan;
}

// The plan with each stand-in replaced by its base again (the stand-in's
// load failed), or an empty vector when it has none.
std::vector<bool> WithoutStandIns(std::vector<bool> plan) {
  bool any = false;
  for (size_t i = 0; i < kHookCount; i++) {
    if (!kHooks[i].instead_of || !plan[i]) continue;
    plan[i] = false;
    plan[BaseOf(kHooks[i])] = true;
    any = true;
  }
  return any ? plan : std::vector<bool>();
}

// Whether the plan attaches the hooks of a group: the BPF side is told,
// since it counts bytes differently without them.
bool GroupPlanned(const std::vector<bool>& plan, const char* group) {
  for (size_t i = 0; i < kHookCount; i++) {
    if (kHooks[i].group && strcmp(kHooks[i].group, group) == 0) return plan[i];
  }
  return false;
}

}  // namespace

Napi::Function Tracer::Define(Napi::Env env) {
  return DefineClass(env, "Tracer",
                     {
                         InstanceMethod("walk", &Tracer::Walk),
                         InstanceMethod("health", &Tracer::Health),
                         InstanceMethod("hooks", &Tracer::Hooks),
                         InstanceMethod("walkReads", &Tracer::WalkReads),
                         InstanceMethod("walkResume", &Tracer::WalkResume),
                         InstanceMethod("shares", &Tracer::Shares),
                         InstanceMethod("walkSuspended", &Tracer::WalkSuspended),
                         InstanceMethod("pause", &Tracer::Pause),
                         InstanceMethod("resume", &Tracer::Resume),
                         InstanceMethod("flush", &Tracer::Flush),
                         InstanceMethod("close", &Tracer::Close),
                         InstanceMethod("dropPrivileges", &Tracer::DropPrivileges),
                         InstanceMethod("detach", &Tracer::Detach),
                         InstanceMethod("setFilters", &Tracer::SetFilters),
                     });
}

// new Tracer(options, onRecords): options as NativeOptions in
// src/tracer/native.ts (filters, sizes, pollMs, program, verbose).
Tracer::Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "Tracer(options, onRecords)");
  }
  Napi::Object opts = info[0].As<Napi::Object>();
  on_records_ = Napi::Persistent(info[1].As<Napi::Function>());
  async_ = new Napi::AsyncContext(env, "nettracer:records");
  g_verbose = Bool(opts, "verbose", false);
  libbpf_set_print(PrintLibbpf);

  const KernelOffer offer = ProbeKernel();
  plan_ = PlanHooks(env, offer, opts);
  ReadObject(env, opts);
  Load(env, opts, offer.walk_reads == WalkReads::kAuto);
  Attach(env);
  StartPolling(env);
}

// -p FILE: a BPF object of the same shape (programs, maps) instead of the
// embedded one: a regular, non-empty file of at most kMaxObjectBytes, opened
// without following a symbolic link (as output files, safe_open.h) and
// judged by its descriptor. Anything else is refused: an empty object would
// load the embedded one, a device or FIFO would be read without end.
void Tracer::ReadObject(Napi::Env env, const Napi::Object& opts) {
  Napi::Value program = opts.Get("program");
  if (!program.IsString()) return;
  object_path_ = program.As<Napi::String>().Utf8Value();
  const std::string cannot = "cannot use the BPF object " + object_path_ + ": ";
  const std::string too_large =
      "it is larger than " + std::to_string(kMaxObjectBytes >> 20) + " MiB (the built-in one is a few hundred KB)";
  int fd = OpenNoSymlinks(object_path_, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0) throw Fail(env, "EOBJECT", cannot + OpenError(errno));
  struct stat st;
  std::string why;
  if (fstat(fd, &st) != 0) {
    why = strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    why = "it is not a regular file (a device, a FIFO, a socket or a directory)";
  } else if (st.st_size == 0) {
    why = "it is empty";
  } else if (static_cast<uint64_t>(st.st_size) > kMaxObjectBytes) {
    why = too_large;
  }
  uint8_t chunk[65536];
  while (why.empty()) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) why = strerror(errno);
    if (n <= 0) break;
    object_.insert(object_.end(), chunk, chunk + n);
    if (object_.size() > kMaxObjectBytes) why = too_large;  // grew while read
  }
  close(fd);
  if (why.empty() && object_.empty()) why = "it is empty";
  if (!why.empty()) {
    object_.clear();
    throw Fail(env, "EOBJECT", cannot + why);
  }
}

// Open, configure and load. The verifier gives up with EAGAIN when a signal
// arrives while it works (a profiler's SIGPROF, a terminal resize): open and
// load again. A stand-in the kernel refused (walk_direct: a kernel with
// bpf_rdonly_cast whose JIT cannot call kernel functions) gives way to its
// base when the user did not ask for it (may_fall_back): the same records.
void Tracer::Load(Napi::Env env, const Napi::Object& opts, bool may_fall_back) {
  int err = LoadOnce(env, opts);
  std::vector<bool> fallback = may_fall_back && err && err != -EPERM ? WithoutStandIns(plan_) : std::vector<bool>();
  if (!fallback.empty()) {
    if (skel_) nettracer_bpf__destroy(skel_);
    skel_ = nullptr;
    if (g_verbose) fprintf(stderr, "nettracer: loading again with probe reads in the table walk\n");
    plan_ = fallback;
    err = LoadOnce(env, opts);
  }
  if (!err) return;
  Teardown();
  if (err == -EPERM) {
    throw Fail(env, "EPERM", WhyBpfRefused());
  }
  throw Fail(env, "ELOAD",
             "the kernel refused the BPF program: " + Errno(err) + " (run with --verbose for the verifier's log)");
}

// One load of the object as plan_ says: 0, or libbpf's negative errno.
int Tracer::LoadOnce(Napi::Env env, const Napi::Object& opts) {
  int err = 0;
  for (int attempt = 0; attempt < 5; attempt++) {
    skel_ = OpenSkeleton();
    if (!skel_) {
      if (object_.empty()) throw Fail(env, "ELOAD", "cannot open the BPF object: " + Errno(errno));
      throw Fail(env, "EOBJECT",
                 "the BPF object " + object_path_ + " is not one this nettracer can use: " + Errno(errno));
    }
    std::string mismatch = ObjectMismatch(skel_->obj);
    if (!mismatch.empty()) {
      Teardown();
      throw Fail(env, object_.empty() ? "ELOAD" : "EOBJECT",
                 "the BPF object " + (object_.empty() ? std::string("built in") : object_path_) +
                     " does not match the hook table (native/hooks.cc): " + mismatch);
    }
    Configure(opts);
    // Signals wait while the verifier runs (delivered right after), so a
    // profiler's SIGPROF cannot interrupt it; EAGAIN is retried regardless.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    err = nettracer_bpf__load(skel_);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != -EAGAIN) break;
    nettracer_bpf__destroy(skel_);
    skel_ = nullptr;
  }
  return err;
}

// Before load: what the user chose (rodata, .data), the sizes of the maps,
// and which optional programs load at all.
void Tracer::Configure(const Napi::Object& opts) {
  skel_->rodata->io_hooks = GroupPlanned(plan_, "io");
  WriteFilters(&skel_->data->filters, opts);
  uint32_t map_size = U32(opts, "mapSize", 262144);
  bpf_map__set_max_entries(skel_->maps.conns, map_size);
  skel_->rodata->capacity = map_size;
  // --table-share: a namespace's or a user's share of the table, in percent.
  uint32_t share = U32(opts, "tableShare", NT_TABLE_SHARE_DEFAULT);
  skel_->rodata->share_limit = share >= 100 ? 0 : std::max<int64_t>(1, int64_t{map_size} * share / 100);
  // Our own network namespace holds no share (the host's, where we run).
  struct stat ns = {};
  skel_->rodata->host_netns = stat("/proc/self/ns/net", &ns) == 0 ? static_cast<uint32_t>(ns.st_ino) : 0;
  // The table's array part: a slot per connection of capacity, in a power
  // of two of buckets, from 2 up to its maximum (see the BPF source).
  uint32_t bits = 1;
  while (bits < NT_TABLE_BUCKET_BITS_MAX && (uint64_t{NT_TABLE_WAYS} << bits) < map_size) bits++;
  skel_->rodata->fast_bucket_bits = bits;
  // The index of the hash part's keys (see the BPF source): a place per 4
  // of capacity, a power of two from 16 to its maximum.
  uint32_t ovf = 16;
  while (ovf < NT_OVF_SLOTS_MAX && uint64_t{ovf} * 4 < map_size) ovf *= 2;
  skel_->rodata->ovf_slots = ovf;
  bpf_map__set_max_entries(skel_->maps.fast_keys, 1u << bits);
  bpf_map__set_max_entries(skel_->maps.fast_conns, NT_TABLE_WAYS << bits);
  uint32_t ring_bytes = U32(opts, "ringBytes", 4u << 20);
  bpf_map__set_max_entries(skel_->maps.events, ring_bytes);
  // Wake-ups only past an eighth of the ring; the rest is drained by a timer.
  poll_ms_ = U32(opts, "pollMs", 50);
  skel_->rodata->wakeup_bytes = poll_ms_ ? ring_bytes / 8 : 0;
  for (size_t i = 0; i < kHookCount; i++) {
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, kHooks[i].program);
    bpf_program__set_autoload(prog, plan_[i]);
  }
}

void Tracer::Attach(Napi::Env env) {
  for (size_t i = 0; i < kHookCount; i++) {
    const HookSpec& h = kHooks[i];
    if (!plan_[i]) continue;
    bpf_program* prog = bpf_object__find_program_by_name(skel_->obj, h.program);
    if (h.kind == HookKind::kProgram) {  // run by us, never attached
      walk_prog_ = prog;
      attached_.push_back({&h, prog, nullptr});
      continue;
    }
    bpf_link* link =
        h.kind == HookKind::kIterator ? bpf_program__attach_iter(prog, nullptr) : bpf_program__attach(prog);
    if (!link) {
      int e = errno;
      Teardown();
      throw Fail(env, "EATTACH", std::string("cannot attach ") + h.section + ": " + Errno(e));
    }
    attached_.push_back({&h, prog, link});
    if (h.kind == HookKind::kIterator) iter_link_ = link;
  }
}

void Tracer::StartPolling(Napi::Env env) {
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), OnSample, this, nullptr);
  if (!rb_) {
    int e = errno;
    Teardown();
    throw Fail(env, "EATTACH", "cannot map the ring buffer: " + Errno(e));
  }
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  uv_poll_init(loop, poll_, ring_buffer__epoll_fd(rb_));
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, OnReadable);
  polling_ = true;
  if (poll_ms_) {
    timer_ = new uv_timer_t;
    uv_timer_init(loop, timer_);
    timer_->data = this;
    uv_timer_start(timer_, OnTimer, poll_ms_, poll_ms_);
  }
  // Records reach JS through two buffers made once and reused (no
  // allocation per drain or per walk read): JS reads them during the call only.
  Napi::Buffer<uint8_t> chunk = Napi::Buffer<uint8_t>::New(env, kChunkRecords * NT_RECORD_SIZE);
  chunk_data_ = chunk.Data();  // off the V8 heap: it never moves
  chunk_ = Napi::Persistent(chunk);
  Napi::Buffer<uint8_t> walk = Napi::Buffer<uint8_t>::New(env, kWalkBytes);
  walk_data_ = walk.Data();
  walk_ = Napi::Persistent(walk);
}

Tracer::~Tracer() { Teardown(); }

// The skeleton over the embedded object, or over object_ (-p) when given.
nettracer_bpf* Tracer::OpenSkeleton() {
  if (object_.empty()) return nettracer_bpf__open();
  auto* obj = static_cast<nettracer_bpf*>(calloc(1, sizeof(nettracer_bpf)));
  if (!obj) return nullptr;
  int err = nettracer_bpf__create_skeleton(obj);
  if (!err) {
    obj->skeleton->data = object_.data();
    obj->skeleton->data_sz = object_.size();
    err = bpf_object__open_skeleton(obj->skeleton, nullptr);
  }
  if (err) {
    nettracer_bpf__destroy(obj);
    errno = -err;
    return nullptr;
  }
  return obj;
}

int Tracer::OnSample(void* ctx, void* data, size_t len) {
  auto* self = static_cast<Tracer*>(ctx);
  if (len < NT_RECORD_SIZE) return 0;
  memcpy(self->chunk_data_ + self->chunk_len_ * NT_RECORD_SIZE, data, NT_RECORD_SIZE);
  // A full chunk stops the ring buffer's walk (this record is consumed);
  // Deliver hands it over and goes on.
  return ++self->chunk_len_ == kChunkRecords ? -E2BIG : 0;
}

void Tracer::OnReadable(uv_poll_t* handle, int status, int) {
  auto* self = static_cast<Tracer*>(handle->data);
  if (status < 0 || !self || !self->rb_) return;
  // Not inside a JS call: a JS exception from the handler becomes the
  // process's uncaughtException (the CLI detaches and exits) instead of
  // escaping into libuv.
  Napi::HandleScope scope(self->Env());
  try {
    self->Deliver();
  } catch (const Napi::Error& e) {
    napi_fatal_exception(self->Env(), e.Value());
  }
}

void Tracer::OnTimer(uv_timer_t* handle) {
  auto* self = static_cast<Tracer*>(handle->data);
  if (!self || !self->rb_ || !self->polling_) return;  // paused: back-pressure
  Napi::HandleScope scope(self->Env());
  try {
    self->Deliver();
  } catch (const Napi::Error& e) {
    napi_fatal_exception(self->Env(), e.Value());
  }
}

// Drain the ring buffer, one JS call per chunk of up to kChunkRecords
// records: bounded memory however large the burst. Stops early when a
// chunk made JS pause() us (the output is blocked), unless `all`.
void Tracer::Deliver(bool all) {
  Napi::Env env = Env();
  // JS may close() the tracer from inside a call (--count reached): the
  // teardown then waits until the outermost call has returned, since the
  // callback's async context is still in use until then.
  CallbackDepth depth(this);
  while (rb_ && !closing_ && (all || polling_)) {
    chunk_len_ = 0;
    ring_buffer__consume(rb_);
    if (chunk_len_ == 0) return;
    size_t n = chunk_len_;
    Napi::HandleScope scope(env);
    on_records_.MakeCallback(env.Global(), {chunk_.Value(), Napi::Number::New(env, n * NT_RECORD_SIZE)}, *async_);
    if (n < kChunkRecords) return;
  }
}

// walk(kind, onChunk): run a walk once (kind: enum nt_walk): the start-up
// walks over every process's open files; metrics over the connection table
// (the walk program, a page at a time; then over the files only when it
// found connections no process has touched yet), or over the files on a
// kernel without that program. Records go to onChunk a read at a
// time (a few hundred records), so a walk over 100k connections never sits
// in memory whole. onChunk returning false suspends the walk (the output is
// blocked): the iterator keeps its place, and walkResume(onChunk) goes on
// from there. Returns { records: handed over by this call, done }.
Napi::Value Tracer::Walk(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!iter_link_) throw Fail(env, "ECLOSED", "tracer is closed");
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "walk(kind, onChunk)");
  }
  uint32_t kind = info[0].As<Napi::Number>().Uint32Value();
  if (kind != NT_WALK_METRICS && kind != NT_WALK_LISTENERS && kind != NT_WALK_EXISTING) {
    throw Napi::RangeError::New(env, "walk kind must be 0, 1 or 2 (enum nt_walk)");
  }
  if (Walking()) throw Fail(env, "EBUSY", "a walk is suspended: walkResume() it first");
  skel_->bss->walk_gen++;
  skel_->bss->walk_kind = kind;
  skel_->bss->walk_unowned = 0;
  walks_++;
  walk_have_ = 0;
  if (kind == NT_WALK_METRICS && walk_prog_) {
    walk_table_ = true;
    walk_next_ = 0;
    walk_pos_ = 0;
    skel_->bss->walk_written = 0;
  } else {
    StartFileWalk(env);
  }
  return ReadWalk(env, info[1].As<Napi::Function>());
}

void Tracer::StartFileWalk(Napi::Env env) {
  file_walks_++;
  walk_fd_ = bpf_iter_create(bpf_link__fd(iter_link_));
  if (walk_fd_ < 0) {
    int e = errno;
    EndWalk();
    throw Fail(env, "EITER", "metrics walk failed: " + Errno(e));
  }
}

// One page of the table walk into walk_out (empty before it).
void Tracer::RunWalkPage(Napi::Env env) {
  __u64 args[1] = {walk_next_};
  LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof(args));
  if (bpf_prog_test_run_opts(bpf_program__fd(walk_prog_), &run) != 0) {
    throw Fail(env, "EITER", "metrics walk failed: " + Errno(errno));
  }
  walk_next_ = run.retval;
}

// The next records of the table walk into walk_ (from the page in .bss,
// running pages as they are read): bytes, 0 once the table is done.
size_t Tracer::ReadTable(Napi::Env env) {
  bool ran = false;
  for (;;) {
    const uint32_t written = std::min<uint32_t>(skel_->bss->walk_written, NT_WALK_PAGE);
    if (walk_pos_ < written) {
      const size_t n = std::min<size_t>(written - walk_pos_, kWalkBytes / NT_RECORD_SIZE);
      memcpy(walk_data_, const_cast<nt_record*>(&skel_->bss->walk_out[walk_pos_]), n * NT_RECORD_SIZE);
      walk_pos_ += n;
      return n * NT_RECORD_SIZE;
    }
    // A page that neither moved on nor wrote anything would be run forever.
    if (ran && written == 0 && walk_next_ == walk_at_) {
      throw Fail(env, "EITER", "metrics walk failed: a page made no progress");
    }
    if (walk_next_ == NT_WALK_DONE) return 0;
    walk_at_ = walk_next_;
    walk_pos_ = 0;
    RunWalkPage(env);
    ran = true;
  }
}

Napi::Value Tracer::WalkResume(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "walkResume(onChunk)");
  if (!Walking()) throw Fail(env, "ENOWALK", "no walk is suspended");
  return ReadWalk(env, info[0].As<Napi::Function>());
}

Napi::Value Tracer::WalkSuspended(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), Walking()); }

void Tracer::EndWalk() {
  if (walk_fd_ >= 0) close(walk_fd_);
  walk_fd_ = -1;
  walk_have_ = 0;
  walk_table_ = false;  // a table walk cut short: the rest of its page goes with it
  if (skel_) skel_->bss->walk_kind = NT_WALK_METRICS;
}

Napi::Value Tracer::ReadWalk(Napi::Env env, Napi::Function on_chunk) {
  uint8_t* buf = walk_data_;
  double records = 0;
  bool suspended = false;
  CallbackDepth depth(this);  // onChunk may close() us: see Deliver
  try {
    while (!closing_ && Walking()) {
      if (walk_table_) {
        walk_have_ = ReadTable(env);
        if (walk_have_ == 0) {
          // Connections without an owner: the file walk finds it, and
          // reports them (the others are reported: same walk_gen).
          walk_table_ = false;
          if (skel_->bss->walk_unowned == 0) break;
          StartFileWalk(env);
          continue;
        }
      } else {
        ssize_t n = read(walk_fd_, buf + walk_have_, kWalkBytes - walk_have_);
        // EAGAIN: the kernel ends a read that went over 1,000,000 objects
        // without output (bpf_seq_read's MAX_ITER_OBJECTS: a host with that
        // many open files that are not tracked sockets); the next read goes on.
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) throw Fail(env, "EITER", "metrics walk failed: " + Errno(errno));
        if (n == 0) break;
        walk_have_ += static_cast<size_t>(n);
      }
      size_t whole = walk_have_ - walk_have_ % NT_RECORD_SIZE;
      if (whole == 0) continue;
      Napi::HandleScope scope(env);
      records += whole / NT_RECORD_SIZE;
      Napi::Value more = on_chunk.Call({walk_.Value(), Napi::Number::New(env, static_cast<double>(whole))});
      memmove(buf, buf + whole, walk_have_ - whole);
      walk_have_ -= whole;
      if (more.IsBoolean() && !more.As<Napi::Boolean>().Value()) {
        suspended = true;
        break;
      }
    }
  } catch (...) {
    EndWalk();  // an exception in onChunk, or a failed read: the iterator goes
    throw;
  }
  if (!suspended || closing_) EndWalk();
  Napi::Object r = Napi::Object::New(env);
  r.Set("records", Napi::Number::New(env, records));
  r.Set("done", Napi::Boolean::New(env, !Walking()));
  return r;
}

// shares(): the namespaces and users that had connections refused for
// want of a place in their share of the table (--table-share), with the
// places they hold now: { netns: [[inode, held, refused]], users: [[uid, held, refused]] }.
Napi::Value Tracer::Shares(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  if (!skel_) return o;
  auto read = [&env](bpf_map* map) {
    Napi::Array out = Napi::Array::New(env);
    int fd = bpf_map__fd(map);
    __u32 key = 0, next = 0;
    __u32* at = nullptr;
    // Bounded: the map holds at most NT_SHARES_MAX keys.
    for (int i = 0; i < NT_SHARES_MAX && bpf_map_get_next_key(fd, at, &next) == 0; i++) {
      key = next;
      at = &key;
      nt_share sh = {};
      if (bpf_map_lookup_elem(fd, &key, &sh) != 0 || sh.refused == 0) continue;
      Napi::Array row = Napi::Array::New(env, 3);
      row.Set(0u, Napi::Number::New(env, key));
      row.Set(1u, Napi::Number::New(env, static_cast<double>(std::max<int64_t>(0, sh.held))));
      row.Set(2u, Napi::Number::New(env, static_cast<double>(sh.refused)));
      out.Set(out.Length(), row);
    }
    return out;
  };
  o.Set("netns", read(skel_->maps.netns_shares));
  o.Set("users", read(skel_->maps.user_shares));
  return o;
}

Napi::Value Tracer::Health(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  if (!skel_) return o;
  const volatile nt_health& c = skel_->bss->health;
  o.Set("recordsLost", Napi::Number::New(env, static_cast<double>(c.records_lost)));
  o.Set("insertFailed", Napi::Number::New(env, static_cast<double>(c.insert_failed)));
  o.Set("recordsSent", Napi::Number::New(env, static_cast<double>(c.records_sent)));
  o.Set("unacceptedCloses", Napi::Number::New(env, static_cast<double>(c.unaccepted_closes)));
  o.Set("tracked", Napi::Number::New(env, static_cast<double>(c.tracked)));
  o.Set("hookMisses", Napi::Number::New(env, static_cast<double>(HookMisses())));
  o.Set("walks", Napi::Number::New(env, static_cast<double>(walks_)));
  o.Set("fileWalks", Napi::Number::New(env, static_cast<double>(file_walks_)));
  return o;
}

// Runs of our tracepoint programs the kernel skipped: a program is not run
// again on a CPU where it is already running (an interrupt in the middle of
// it whose softirq hits the same hook). Each skipped run may have been a
// record; the kernel counts them per program (bpf_prog_info.recursion_misses).
uint64_t Tracer::HookMisses() const {
  uint64_t misses = 0;
  for (const Attached& a : attached_) {
    if (a.hook->kind != HookKind::kTracepoint) continue;
    bpf_prog_info info = {};
    __u32 len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(a.prog), &info, &len) == 0) misses += info.recursion_misses;
  }
  return misses;
}

// walkReads(): how the table walk reads sockets: "direct" (walk_direct
// loaded), "probe" (walk), "none" (no table walk: every metrics walk goes over
// the files).
Napi::Value Tracer::WalkReads(const Napi::CallbackInfo& info) {
  const char* reads = "none";
  for (const Attached& a : attached_) {
    if (a.hook->kind == HookKind::kProgram) reads = a.hook->instead_of ? "direct" : "probe";
  }
  return Napi::String::New(info.Env(), reads);
}

// hooks(): the sections of the programs attached, in hook table order.
Napi::Value Tracer::Hooks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env, attached_.size());
  for (size_t i = 0; i < attached_.size(); i++) a.Set(i, attached_[i].hook->section);
  return a;
}

// Back-pressure: while paused the kernel keeps filling the ring buffer and
// counts what does not fit (records_lost).
Napi::Value Tracer::Pause(const Napi::CallbackInfo& info) {
  if (poll_ && polling_) {
    uv_poll_stop(poll_);
    polling_ = false;
  }
  return info.Env().Undefined();
}

Napi::Value Tracer::Resume(const Napi::CallbackInfo& info) {
  if (poll_ && !polling_) {
    uv_poll_start(poll_, UV_READABLE, OnReadable);
    polling_ = true;
    Deliver();  // what arrived meanwhile will not wake us again
  }
  return info.Env().Undefined();
}

// flush(all = true): deliver whatever is pending now, paused or not (before
// exit); all false: only until the output blocks (before a metrics walk).
Napi::Value Tracer::Flush(const Napi::CallbackInfo& info) {
  const bool all = info.Length() < 1 || info[0].ToBoolean().Value();
  if (rb_) Deliver(all);
  return info.Env().Undefined();
}

// dropPrivileges({ uid, gid }): once attached, the tracer needs little of
// root (reading the ring and the counters, running the metrics walk from
// its link, writing to descriptors already open): become uid/gid, keep the
// capabilities a bpf() call on its own objects shows it still needs on
// this kernel (none on recent kernels), and the rest of privileges.h.
// Returns what it kept. Not root: keeps its ids, sheds what capabilities it can.
Napi::Value Tracer::DropPrivileges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "dropPrivileges({ uid, gid })");
  if (!skel_ || !iter_link_ || attached_.empty()) throw Fail(env, "ECLOSED", "tracer is closed");
  Napi::Object o = info[0].As<Napi::Object>();
  const uid_t uid = o.Get("uid").ToNumber().Uint32Value();
  const gid_t gid = o.Get("gid").ToNumber().Uint32Value();
  // Failpoint for the tests: a kernel (5.8 to 5.18 with unprivileged BPF
  // disabled) where bpf() needs CAP_BPF after the drop.
  static const bool needs_cap =
      getenv("NETTRACER_FAILPOINT") && strcmp(getenv("NETTRACER_FAILPOINT"), "bpf-needs-cap") == 0;
  // The bpf() calls the running tracer makes: a program's info (health),
  // a new metrics walk, a map read (stats).
  auto works = [this]() {
    if (needs_cap && !HasEffectiveCapBpf()) return false;
    bpf_prog_info prog = {};
    __u32 len = sizeof(prog);
    if (bpf_obj_get_info_by_fd(bpf_program__fd(attached_.front().prog), &prog, &len) != 0) return false;
    int fd = bpf_iter_create(bpf_link__fd(iter_link_));
    if (fd < 0) return false;
    close(fd);
    if (walk_prog_) {  // a trial page: it returns at once
      __u64 args[1] = {NT_WALK_DONE};
      LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof(args));
      if (bpf_prog_test_run_opts(bpf_program__fd(walk_prog_), &run) != 0) return false;
    }
    // Reading a map (the shares, for stats): ENOENT on an empty one is fine.
    __u32 key;
    return bpf_map_get_next_key(bpf_map__fd(skel_->maps.user_shares), nullptr, &key) == 0 || errno == ENOENT;
  };
  DropResult r = DropTo(uid, gid, works);
  if (!r.error.empty()) throw Fail(env, "EPRIV", "cannot drop privileges: " + r.error);
  return Napi::String::New(env, r.kept);
}

// setFilters(options): what to trace from now on (same keys as the
// constructor's); connections already tracked are kept.
Napi::Value Tracer::SetFilters(const Napi::CallbackInfo& info) {
  if (!skel_ || info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "setFilters(options)");
  WriteFilters(&skel_->data->filters, info[0].As<Napi::Object>());
  return info.Env().Undefined();
}

// detach(): stop the kernel producing records (tracepoint links gone) while
// the ring buffer, the counters and the metrics iterator stay usable: what
// is drained afterwards is final.
Napi::Value Tracer::Detach(const Napi::CallbackInfo& info) {
  DestroyTracepointLinks();
  return info.Env().Undefined();
}

void Tracer::DestroyTracepointLinks() {
  for (Attached& a : attached_) {
    if (a.link && a.link != iter_link_) {
      bpf_link__destroy(a.link);
      a.link = nullptr;
    }
  }
}

Napi::Value Tracer::Close(const Napi::CallbackInfo& info) {
  if (depth_ > 0) {
    // Called from inside the records callback: stop delivering now, free
    // everything once that callback has returned (see Deliver).
    closing_ = true;
    if (poll_ && polling_) uv_poll_stop(poll_);
    polling_ = false;
    if (timer_) uv_timer_stop(timer_);
    return info.Env().Undefined();
  }
  Teardown();
  return info.Env().Undefined();
}

void Tracer::Teardown() {
  closing_ = false;
  if (timer_) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
    polling_ = false;
  }
  if (rb_) {
    ring_buffer__free(rb_);
    rb_ = nullptr;
  }
  walk_prog_ = nullptr;
  DestroyTracepointLinks();
  EndWalk();
  if (iter_link_) {
    bpf_link__destroy(iter_link_);
    iter_link_ = nullptr;
  }
  attached_.clear();  // their programs were the skeleton's
  if (skel_) {
    nettracer_bpf__destroy(skel_);
    skel_ = nullptr;
  }
  if (async_) {
    delete async_;
    async_ = nullptr;
  }
}
