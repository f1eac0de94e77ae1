// NdjsonEncoder: struct nt_record batches -> NDJSON lines, the bytes the
// TypeScript path (src/tracer/records.ts written through
// src/output/ndjson.ts) produces for the same records, about fifteen times
// faster. It is the hot path of `trace` with NDJSON output, and nothing
// else: records that need user-space state (connections found at start,
// --incremental deltas, an unknown cgroup, a process name that is not
// printable ASCII, numbers past 2^53) are left to JavaScript ("holes").
// test/unit/native-ndjson.test.ts proves both paths write the same bytes.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

class NdjsonEncoder : public Napi::ObjectWrap<NdjsonEncoder> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NdjsonEncoder(const Napi::CallbackInfo& info);

 private:
  // encodeInto(batch, first, target, offset) -> [next, bytes, stop]:
  // writes the lines of records first.. into target from offset (no copy,
  // no allocation) and stops at the end of the batch (stop 0), at a record
  // JavaScript must write (1: next is its index; 3: the same, because its
  // owner's container fields are not known yet), or when target has less
  // than a line's room left (2).
  Napi::Value EncodeInto(const Napi::CallbackInfo& info);
  // configure({ bootToRealtimeMs, headerSize, incremental })
  Napi::Value Configure(const Napi::CallbackInfo& info);
  // container(cgroupId, pid, fields): what follows "direction" for this
  // owner ("" on the host), as the TypeScript path writes it.
  Napi::Value Container(const Napi::CallbackInfo& info);

  char* EncodeOne(const uint8_t* rec, char* p);
  void Timestamp(uint64_t ts_ns);
  const std::string* ContainerFields(uint64_t cgroup_id, uint32_t pid);

  bool unknown_owner_ = false;  // why the last EncodeOne left its record to JS
  double boot_to_realtime_ms_ = 0;
  bool header_size_ = false;
  bool incremental_ = false;
  std::unordered_map<uint64_t, std::string> containers_;  // by cgroup id, or by pid (no cgroup v2)
  uint64_t last_key_ = 0;                                 // ContainerFields' last answer
  const std::string* last_fields_ = nullptr;
  int64_t ts_ms_ = INT64_MIN;
  char ts_[64];  // 24 characters used
};
