#include "ndjson.h"

#include "address.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include <linux/types.h>

extern "C" {
#include "nettracer.h"
}
#include "generated/record_fields.h"

namespace {

constexpr uint64_t kMaxSafe = (1ull << 53) - 1;  // JS numbers are exact up to here
constexpr size_t kRecordRoom = 1024;             // more than any line this encoder writes

// As ContainerResolver (src/tracer/containers.ts): facts kept for a whole
// cgroup by its id, or for one process by pid and start, which a reused pid
// does not match (processKey: 53 bits; the top bit tells the kinds apart).
uint64_t ProcessKey(uint32_t pid, uint32_t start) {
  return (1ull << 63) | (uint64_t{pid % (1u << 22)} << 31) | (start % (1u << 31));
}

}  // namespace

Napi::Function NdjsonEncoder::Define(Napi::Env env) {
  return DefineClass(env, "NdjsonEncoder",
                     {
                         InstanceMethod("encodeInto", &NdjsonEncoder::EncodeInto),
                         InstanceMethod("configure", &NdjsonEncoder::Configure),
                         InstanceMethod("container", &NdjsonEncoder::Container),
                     });
}

NdjsonEncoder::NdjsonEncoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NdjsonEncoder>(info) {
  Configure(info);
}

Napi::Object NdjsonEncoder::Stops(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("end", static_cast<uint32_t>(kStopEnd));
  o.Set("hole", static_cast<uint32_t>(kStopHole));
  o.Set("room", static_cast<uint32_t>(kStopRoom));
  o.Set("owner", static_cast<uint32_t>(kStopOwner));
  return o;
}

Napi::Value NdjsonEncoder::Configure(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(
        info.Env(),
        "configure({ bootToRealtimeMs, headerBytesIpv4, headerBytesIpv6, incremental, containerCacheMax })");
  }
  Napi::Object o = info[0].As<Napi::Object>();
  boot_to_realtime_ms_ = o.Get("bootToRealtimeMs").ToNumber().DoubleValue();
  header_bytes_ipv4_ = o.Get("headerBytesIpv4").ToNumber().Uint32Value();
  header_bytes_ipv6_ = o.Get("headerBytesIpv6").ToNumber().Uint32Value();
  incremental_ = o.Get("incremental").ToBoolean().Value();
  container_cache_max_ = o.Get("containerCacheMax").ToNumber().Uint32Value();
  ts_ms_ = INT64_MIN;
  return info.Env().Undefined();
}

Napi::Value NdjsonEncoder::Container(const Napi::CallbackInfo& info) {
  if (info.Length() < 4 || !info[3].IsString()) {
    throw Napi::TypeError::New(info.Env(), "container(cgroupId, pid, ownerStart, fields)");
  }
  if (containers_.size() >= container_cache_max_) containers_.clear();  // bounded, as ContainerResolver
  last_fields_ = nullptr;                                               // the map may have moved or dropped it
  uint64_t cgroup = static_cast<uint64_t>(info[0].ToNumber().DoubleValue());
  uint32_t pid = info[1].ToNumber().Uint32Value();
  uint32_t start = info[2].ToNumber().Uint32Value();
  const uint64_t key = cgroup > 1 ? cgroup : ProcessKey(pid, start);
  containers_[key] = info[3].As<Napi::String>().Utf8Value();
  return info.Env().Undefined();
}

const std::string* NdjsonEncoder::ContainerFields(uint64_t cgroup_id, uint32_t pid, uint32_t start) {
  // Records come in runs of one owner: the last answer is usually the next.
  const uint64_t process = ProcessKey(pid, start);
  if (last_fields_ && last_cgroup_ == cgroup_id && last_process_ == process) return last_fields_;
  // The cgroup first, as ContainerResolver.cached().
  auto it = cgroup_id > 1 ? containers_.find(cgroup_id) : containers_.end();
  if (it == containers_.end()) it = containers_.find(process);
  if (it == containers_.end()) return nullptr;
  last_cgroup_ = cgroup_id;
  last_process_ = process;
  last_fields_ = &it->second;
  return last_fields_;
}

Napi::Value NdjsonEncoder::EncodeInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsBuffer() || !info[2].IsTypedArray()) {
    throw Napi::TypeError::New(env, "encodeInto(batch, first, target, offset)");
  }
  Napi::Buffer<uint8_t> batch = info[0].As<Napi::Buffer<uint8_t>>();
  Napi::Uint8Array target = info[2].As<Napi::Uint8Array>();
  size_t n = batch.Length() / NT_RECORD_SIZE;
  size_t i = info[1].ToNumber().Uint32Value();
  size_t offset = info[3].ToNumber().Uint32Value();
  if (offset > target.ByteLength()) throw Napi::RangeError::New(env, "offset past the end of target");
  char* const begin = reinterpret_cast<char*>(target.Data()) + offset;
  char* const end = reinterpret_cast<char*>(target.Data()) + target.ByteLength();
  char* p = begin;
  uint32_t stop = kStopEnd;
  for (; i < n; i++) {
    if (end - p < static_cast<ptrdiff_t>(kRecordRoom)) {
      stop = kStopRoom;
      break;
    }
    unknown_owner_ = false;
    char* next = EncodeOne(batch.Data() + i * NT_RECORD_SIZE, p);
    if (!next) {
      stop = unknown_owner_ ? kStopOwner : kStopHole;
      break;
    }
    p = next;
  }
  Napi::Array r = Napi::Array::New(env, 3);
  r.Set(0u, static_cast<double>(i));
  r.Set(1u, static_cast<double>(p - begin));
  r.Set(2u, stop);
  return r;
}

// The wall-clock time of a CLOCK_BOOTTIME stamp, as bootClock() in
// records.ts computes it (same double arithmetic) and Date#toISOString()
// writes it. Formatted once per millisecond: records come in bursts.
void NdjsonEncoder::Timestamp(uint64_t ts_ns) {
  int64_t ms = static_cast<int64_t>(std::floor(static_cast<double>(ts_ns) / 1e6 + boot_to_realtime_ms_));
  if (ms == ts_ms_) return;
  ts_ms_ = ms;
  // Days to a civil date (H. Hinnant's days_from_civil inverted): no
  // gmtime_r, which takes glibc's time-zone lock.
  int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
  int64_t in_day = ms - days * 86400000;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2);
  auto digits = [](char* p, int64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v /= 10) p[i] = static_cast<char>('0' + v % 10);
  };
  digits(ts_, year, 4);
  ts_[4] = '-';
  digits(ts_ + 5, month, 2);
  ts_[7] = '-';
  digits(ts_ + 8, day, 2);
  ts_[10] = 'T';
  digits(ts_ + 11, in_day / 3600000, 2);
  ts_[13] = ':';
  digits(ts_ + 14, in_day / 60000 % 60, 2);
  ts_[16] = ':';
  digits(ts_ + 17, in_day / 1000 % 60, 2);
  ts_[19] = '.';
  digits(ts_ + 20, in_day % 1000, 3);
  ts_[23] = 'Z';
}

// close_reason's value, or nullptr where the record has none (the table in
// src/record/close-reason.ts; the encoders' differential test compares them).
static const char* CloseReason(uint8_t reason) {
  switch (reason) {
    case NT_CLOSE_FIN_LOCAL:
    case NT_CLOSE_FIN_REMOTE:
      return "fin";
    case NT_CLOSE_RESET_SENT:
      return "reset_sent";
    case NT_CLOSE_RESET_RECEIVED:
      return "reset_received";
    case NT_CLOSE_TIMEOUT:
      return "timeout";
    case NT_CLOSE_ABORTED:
      return "aborted";
    default:
      return nullptr;
  }
}

// One line at p (kRecordRoom bytes at least); returns its end, or nullptr
// when JavaScript must write it. The fields of each record and their order
// come from the record table (generated/record_fields.h).
char* NdjsonEncoder::EncodeOne(const uint8_t* data, char* p) {
  nt_record r;
  memcpy(&r, data, sizeof(r));
  // Records user space keeps state for, or that are not records of the stream.
  if (r.flags & NT_F_PREEXISTING) return nullptr;               // direction and SYN byte known in JS only
  if (incremental_ && NT_HAS_COUNTERS(r.kind)) return nullptr;  // deltas
  if (r.direction != NT_DIR_OUTGOING && r.direction != NT_DIR_INCOMING) return nullptr;
  const std::string* container = ContainerFields(r.cgroup_id, r.pid, r.owner_start);
  if (!container) {
    unknown_owner_ = true;  // JS writes this one and tells us the owner's fields
    return nullptr;
  }
  const bool ipv4 = PairIsIpv4(r.family, r.saddr, r.daddr);
  const uint64_t hdr = ipv4 ? header_bytes_ipv4_ : header_bytes_ipv6_;

  auto lit = [&p](const char* s, size_t n) {
    memcpy(p, s, n);
    p += n;
  };
  auto num = [&p](uint64_t v) { p = std::to_chars(p, p + 20, v).ptr; };
#define LIT(s) lit(s, sizeof(s) - 1)
#define KEY(name) LIT(",\"" #name "\":")
  // Numbers past 2^53 are JavaScript's: it prints them as the doubles they become.
#define SAFE(v) \
  if ((v) > kMaxSafe) return nullptr
#define FIELD_NUMBER(name, member, per) \
  SAFE(r.member);                       \
  KEY(name);                            \
  num(r.member);
#define FIELD_COUNTER(name, member, per)       \
  {                                            \
    const uint64_t v = r.member + hdr * r.per; \
    SAFE(v);                                   \
    KEY(name);                                 \
    num(v);                                    \
  }
#define FIELD_TIMESTAMP(name, member, per) \
  KEY(name);                               \
  *p++ = '"';                              \
  Timestamp(r.ts_ns);                      \
  lit(ts_, 24);                            \
  *p++ = '"';
#define FIELD_COMM(name, member, per)         \
  KEY(name);                                  \
  *p++ = '"';                                 \
  if (!(p = Comm(p, r.comm))) return nullptr; \
  *p++ = '"';
#define FIELD_FAMILY(name, member, per) \
  KEY(name);                            \
  if (ipv4)                             \
    LIT("\"ipv4\"");                    \
  else                                  \
    LIT("\"ipv6\"");
#define FIELD_SADDR(name, member, per) \
  KEY(name);                           \
  p = Address(p, r.saddr, ipv4, r.family);
#define FIELD_DADDR(name, member, per) \
  KEY(name);                           \
  p = Address(p, r.daddr, ipv4, r.family);
#define FIELD_DIRECTION(name, member, per) \
  KEY(name);                               \
  if (r.direction == NT_DIR_OUTGOING)      \
    LIT("\"outgoing\"");                   \
  else                                     \
    LIT("\"incoming\"");
#define FIELD_CONTAINER(name, member, per) lit(container->data(), container->size());
#define FIELD_INCREMENTAL(name, member, per) \
  KEY(name);                                 \
  LIT("false");
#define FIELD_DURATION_MS(name, member, per) \
  KEY(name);                                 \
  if (!(p = DurationMs(p, r.ts_ns, r.start_ns))) return nullptr;
// Records of connections found open at start are JavaScript's: start_ns is always the handshake's here.
#define FIELD_ESTABLISHED_AT(name, member, per) \
  KEY(name);                                    \
  *p++ = '"';                                   \
  Timestamp(r.start_ns);                        \
  lit(ts_, 24);                                 \
  *p++ = '"';
// close_reason, first_fin: enum nt_close_reason as the record table spells it.
#define FIELD_CLOSE_REASON(name, member, per)             \
  if (const char* reason = CloseReason(r.close_reason)) { \
    KEY(name);                                            \
    *p++ = '"';                                           \
    lit(reason, strlen(reason));                          \
    *p++ = '"';                                           \
  }
#define FIELD_FIRST_FIN(name, member, per)            \
  if (r.close_reason == NT_CLOSE_FIN_LOCAL) {         \
    KEY(name);                                        \
    LIT("\"local\"");                                 \
  } else if (r.close_reason == NT_CLOSE_FIN_REMOTE) { \
    KEY(name);                                        \
    LIT("\"remote\"");                                \
  }
// An error's name is JavaScript's (Node's errno table); rare: resets, timeouts, failed attempts.
#define FIELD_ERROR(name, member, per) \
  if (r.sk_err || r.kind == NT_CONNECT_FAILED) return nullptr;
#define FIELD_ERRNO(name, member, per)
#define FIELD(how, name, member, per) FIELD_##how(name, member, per)
#define RECORD(kind, type, FIELDS)  \
  case kind:                        \
    LIT("{\"type\":\"" #type "\""); \
    FIELDS(FIELD)                   \
    break;
  switch (r.kind) {
    NT_CONNECTION_RECORDS(RECORD)
    default:
      return nullptr;  // listeners, and kinds this build does not know
  }
  LIT("}\n");
#undef RECORD
#undef FIELD
#undef FIELD_ESTABLISHED_AT
#undef FIELD_ERRNO
#undef FIELD_ERROR
#undef FIELD_FIRST_FIN
#undef FIELD_CLOSE_REASON
#undef FIELD_DURATION_MS
#undef FIELD_INCREMENTAL
#undef FIELD_CONTAINER
#undef FIELD_DIRECTION
#undef FIELD_DADDR
#undef FIELD_SADDR
#undef FIELD_FAMILY
#undef FIELD_COMM
#undef FIELD_TIMESTAMP
#undef FIELD_COUNTER
#undef FIELD_NUMBER
#undef SAFE
#undef KEY
#undef LIT
  return p;
}

// As src/tracer/comm.ts: printable ASCII is kept as it is (JSON escapes "),
// but the backslash, which starts an escape there, reads \x5c (JSON: \\x5c);
// anything else is comm.ts's to decide: nullptr.
char* NdjsonEncoder::Comm(char* p, const char* comm) {
  for (int i = 0; i < NT_COMM_LEN && comm[i]; i++) {
    unsigned char c = static_cast<unsigned char>(comm[i]);
    if (c < 0x20 || c > 0x7e) return nullptr;
    if (c == '\\') {
      memcpy(p, "\\\\x5c", 5);
      p += 5;
      continue;
    }
    if (c == '"') *p++ = '\\';
    *p++ = static_cast<char>(c);
  }
  return p;
}

// A quoted address (address.h).
char* NdjsonEncoder::Address(char* p, const uint8_t* a, bool ipv4, uint8_t family) {
  *p++ = '"';
  p = FormatAddress(p, a, ipv4, family);
  *p++ = '"';
  return p;
}

// Math.round((ts - start) / 1e3) / 1e3 as JavaScript prints it (shortest
// round trip, never an exponent in this range); nullptr when negative.
char* NdjsonEncoder::DurationMs(char* p, uint64_t ts_ns, uint64_t start_ns) {
  // JavaScript reads u64 stamps as doubles: do the same (they differ past
  // 2^53 ns, 104 days of uptime).
  const double duration_ns = static_cast<double>(ts_ns) - static_cast<double>(start_ns);
  if (duration_ns < 0) return nullptr;
  double us = duration_ns / 1e3;
  double rounded = std::floor(us);
  if (us - rounded >= 0.5) rounded += 1;
  // rounded / 1e3 has at most three decimals, which is also its shortest
  // form: write them from the integer (no double formatting).
  uint64_t whole_us = static_cast<uint64_t>(rounded);
  p = std::to_chars(p, p + 20, whole_us / 1000).ptr;
  if (uint32_t frac = whole_us % 1000) {
    *p++ = '.';
    *p++ = static_cast<char>('0' + frac / 100);
    if (frac % 100) *p++ = static_cast<char>('0' + frac / 10 % 10);
    if (frac % 10) *p++ = static_cast<char>('0' + frac % 10);
  }
  return p;
}
