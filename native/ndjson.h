// NdjsonEncoder: struct nt_record batches -> NDJSON lines, the bytes the
// TypeScript encoder (src/encode/) writes for the same records, about fifteen
// times faster. It is the hot path of `trace` with NDJSON output, and
// nothing else: records that need user-space state (connections found at
// start, --incremental deltas, an owner whose container is not known yet, a
// process name that is not printable ASCII, numbers past 2^53) are left to
// JavaScript. The fields and their order come from the record table
// (generated/record_fields.h); test/unit/native-ndjson.test.ts proves both
// encoders write the same bytes.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <unordered_map>

class NdjsonEncoder : public Napi::ObjectWrap<NdjsonEncoder> {
 public:
  // Why encodeInto() stopped: exported to JavaScript as encodeStops.
  enum Stop : uint32_t {
    kStopEnd = 0,    // the end of the batch
    kStopHole = 1,   // at a record JavaScript must write (next is its index)
    kStopRoom = 2,   // the target has less than a line's room left
    kStopOwner = 3,  // as kStopHole: the record's owner is new to the encoder
  };
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Stops(Napi::Env env);
  explicit NdjsonEncoder(const Napi::CallbackInfo& info);

 private:
  // encodeInto(batch, first, target, offset) -> [next, bytes, stop]:
  // writes the lines of records first.. into target from offset (no copy,
  // no allocation) until a Stop.
  Napi::Value EncodeInto(const Napi::CallbackInfo& info);
  // configure(EncoderOptions of src/tracer/native.ts)
  Napi::Value Configure(const Napi::CallbackInfo& info);
  // container(cgroupId, pid, ownerStart, fields): what follows "direction"
  // for this owner ("" on the host), as the TypeScript encoder writes it:
  // for the whole cgroup when cgroupId > 1, else for this process.
  Napi::Value Container(const Napi::CallbackInfo& info);

  char* EncodeOne(const uint8_t* rec, char* p);
  void Timestamp(uint64_t ts_ns);
  static char* Comm(char* p, const char* comm);
  static char* Address(char* p, const uint8_t* a, bool ipv4, uint8_t family);
  static char* DurationMs(char* p, uint64_t ts_ns, uint64_t start_ns);
  const std::string* ContainerFields(uint64_t cgroup_id, uint32_t pid, uint32_t start);

  bool unknown_owner_ = false;  // why the last EncodeOne left its record to JS
  double boot_to_realtime_ms_ = 0;
  uint64_t header_bytes_ipv4_ = 0;  // --header-size: added per packet; 0 without
  uint64_t header_bytes_ipv6_ = 0;
  bool incremental_ = false;
  size_t container_cache_max_ = 0;                        // as src/tracer/containers.ts's cache
  std::unordered_map<uint64_t, std::string> containers_;  // by cgroup id, or ProcessKey()
  uint64_t last_cgroup_ = 0, last_process_ = 0;           // ContainerFields' last question
  const std::string* last_fields_ = nullptr;
  int64_t ts_ms_ = INT64_MIN;
  char ts_[64];  // 24 characters used
};
