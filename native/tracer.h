// The addon's one class: owns the loaded BPF object, its links and the ring
// buffer, and hands records to JavaScript in whole batches.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

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

  Napi::Value Collect(const Napi::CallbackInfo& info);
  Napi::Value Counters(const Napi::CallbackInfo& info);
  Napi::Value Hooks(const Napi::CallbackInfo& info);
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
  void Deliver();
  uint64_t HookMisses() const;
  void Teardown();
  nettracer_bpf* OpenSkeleton();

  nettracer_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  bpf_link* iter_link_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;  // drains the ring every pollMs (records below the wake-up mark)
  uint64_t poll_ms_ = 50;
  bool polling_ = false;
  int depth_ = 0;         // nesting of records callbacks in progress
  bool closing_ = false;  // close() asked for inside a callback: tear down after it
  static constexpr size_t kChunkRecords = 1024;  // records per JS call from the ring
  static constexpr size_t kWalkBytes = 64 * 1024;  // one read of the metrics walk
  Napi::Reference<Napi::Buffer<uint8_t>> chunk_;   // ring records for JS (reused)
  uint8_t* chunk_data_ = nullptr;                  // chunk_'s bytes (OnSample runs per record: no N-API there)
  size_t chunk_len_ = 0;                           // records in chunk_
  Napi::Reference<Napi::Buffer<uint8_t>> walk_;    // walk records for JS (reused)
  std::vector<uint8_t> object_;  // -p: the BPF object read from a file
  std::vector<std::string> hooks_;
  std::vector<const bpf_program*> hook_progs_;  // the tracepoint programs attached (HookMisses)
  Napi::FunctionReference on_records_;
  Napi::AsyncContext* async_ = nullptr;
};
