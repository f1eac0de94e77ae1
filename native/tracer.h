// The addon's tracer: owns the loaded BPF object, its links and the ring
// buffer, and hands records to JavaScript in bounded chunks.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "probe.h"

struct nettracer_bpf;
struct ring_buffer;
struct bpf_link;
struct bpf_program;

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Tracer(const Napi::CallbackInfo& info);
  ~Tracer() override;

 private:
  // Marks a call into JS in progress; the last one out performs a close()
  // that JS asked for meanwhile.
  struct CallbackDepth {
    Tracer* t;
    explicit CallbackDepth(Tracer* self) : t(self) { t->depth_++; }
    ~CallbackDepth() {
      if (--t->depth_ == 0 && t->closing_) t->Teardown();
    }
  };

  // The constructor's steps, in order.
  void ReadObject(Napi::Env env, const Napi::Object& opts);
  void Load(Napi::Env env, const Napi::Object& opts, bool may_fall_back);
  int LoadOnce(Napi::Env env, const Napi::Object& opts);
  void Configure(const Napi::Object& opts);
  void Attach(Napi::Env env);
  void StartPolling(Napi::Env env);
  nettracer_bpf* OpenSkeleton();

  Napi::Value Walk(const Napi::CallbackInfo& info);
  Napi::Value WalkResume(const Napi::CallbackInfo& info);
  Napi::Value WalkSuspended(const Napi::CallbackInfo& info);
  Napi::Value ReadWalk(Napi::Env env, Napi::Function on_chunk);
  size_t ReadTable(Napi::Env env);
  void RunWalkPage(Napi::Env env);
  void StartFileWalk(Napi::Env env);
  bool Walking() const { return walk_fd_ >= 0 || walk_table_; }
  void EndWalk();
  Napi::Value Health(const Napi::CallbackInfo& info);
  Napi::Value Shares(const Napi::CallbackInfo& info);
  Napi::Value Hooks(const Napi::CallbackInfo& info);
  Napi::Value WalkReads(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value DropPrivileges(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value SetFilters(const Napi::CallbackInfo& info);

  static int OnSample(void* ctx, void* data, size_t len);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  void Deliver(bool all = false);
  uint64_t HookMisses() const;
  void DestroyTracepointLinks();
  void Teardown();

  nettracer_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  bpf_link* iter_link_ = nullptr;     // the file walk (iter/task_file): kept after detach() for a last walk
  bpf_program* walk_prog_ = nullptr;  // the table walk (run on demand), when the kernel has what it needs
  struct Attached {
    const HookSpec* hook;
    bpf_program* prog;
    bpf_link* link;  // nullptr once detached
  };
  std::vector<bool> plan_;          // by kHooks index: the hooks to attach
  std::vector<Attached> attached_;  // in hook table order
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;  // drains the ring every poll_ms_ (records below the wake-up mark)
  uint64_t poll_ms_ = 50;
  bool polling_ = false;
  int depth_ = 0;                                  // nesting of records callbacks in progress
  bool closing_ = false;                           // close() asked for inside a callback: tear down after it
  static constexpr size_t kChunkRecords = 1024;    // records per JS call from the ring
  static constexpr size_t kWalkBytes = 64 * 1024;  // one read of the metrics walk
  Napi::Reference<Napi::Buffer<uint8_t>> chunk_;   // ring records for JS (reused)
  uint8_t* chunk_data_ = nullptr;                  // chunk_'s bytes (OnSample runs per record: no N-API there)
  size_t chunk_len_ = 0;                           // records in chunk_
  Napi::Reference<Napi::Buffer<uint8_t>> walk_;    // walk records for JS (reused)
  int walk_fd_ = -1;                               // the walk in progress or suspended
  size_t walk_have_ = 0;                           // bytes of an unfinished record carried to the next read
  bool walk_table_ = false;                        // the walk in progress is the table walk
  uint32_t walk_next_ = 0;                         // its next page (NT_WALK_DONE: none)
  uint32_t walk_at_ = 0;                           // where its last page started
  uint32_t walk_pos_ = 0;                          // records of the page in .bss (walk_out) handed over
  uint8_t* walk_data_ = nullptr;                   // walk_'s bytes (off the V8 heap)
  uint64_t walks_ = 0;                             // walks run
  uint64_t file_walks_ = 0;                        // of them, over every process's open files
  std::string object_path_;                        // -p: a BPF object file instead of the embedded one
  std::vector<uint8_t> object_;                    // its bytes
  Napi::FunctionReference on_records_;
  Napi::AsyncContext* async_ = nullptr;
};
